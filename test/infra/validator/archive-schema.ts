import type { AttributeSchema, TypeSchema } from './schema.ts';

/**
 * The archive provider (hashicorp/archive 2.x) is not in `@cdktf/provider-aws`; its one data source
 * used here, `archive_file`, is small enough to describe by hand. Source: the provider documentation,
 * https://registry.terraform.io/providers/hashicorp/archive/latest/docs/data-sources/file
 * (arguments: type and output_path required; source_dir, source_file, source_content,
 * source_content_filename, excludes, exclude_symlink_directories, output_file_mode optional; repeatable
 * `source` block with content and filename; read-only output_size and output_* hashes).
 */
const optional = (kind: AttributeSchema['kind'] = 'primitive'): AttributeSchema => ({
  required: false,
  kind,
});
const required = (): AttributeSchema => ({ required: true, kind: 'primitive' });

const attributes = new Map<string, AttributeSchema>([
  ['type', required()],
  ['output_path', required()],
  ['source_dir', optional()],
  ['source_file', optional()],
  ['source_content', optional()],
  ['source_content_filename', optional()],
  ['excludes', optional('collection')],
  ['exclude_symlink_directories', optional()],
  ['output_file_mode', optional()],
]);

const computed = [
  'id',
  'output_size',
  'output_md5',
  'output_sha',
  'output_sha256',
  'output_sha512',
  'output_base64sha256',
  'output_base64sha512',
];

export const ARCHIVE_FILE_SCHEMA: TypeSchema = {
  attributes,
  blocks: new Map([
    [
      'source',
      {
        required: false,
        schema: {
          attributes: new Map([
            ['content', required()],
            ['filename', required()],
          ]),
          blocks: new Map(),
        },
      },
    ],
  ]),
  readable: new Set([...attributes.keys(), 'source', ...computed]),
};
