import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32, inflateRawSync } from 'node:zlib';
import { zip } from '../../scripts/rehearse/zip.ts';

/** Reads a zip through its central directory, as unzip and Lambda do. */
function unzip(archive: Buffer): Map<string, Buffer> {
  const end = archive.length - 22;
  assert.equal(archive.readUInt32LE(end), 0x06054b50, 'end of central directory');
  const count = archive.readUInt16LE(end + 10);
  let at = archive.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let index = 0; index < count; index += 1) {
    assert.equal(archive.readUInt32LE(at), 0x02014b50, 'central directory entry');
    const size = archive.readUInt32LE(at + 20);
    const crc = archive.readUInt32LE(at + 16);
    const nameLength = archive.readUInt16LE(at + 28);
    const offset = archive.readUInt32LE(at + 42);
    const name = archive.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    assert.equal(archive.readUInt32LE(offset), 0x04034b50, 'local header');
    const dataStart = offset + 30 + archive.readUInt16LE(offset + 26) + archive.readUInt16LE(offset + 28);
    const data = inflateRawSync(archive.subarray(dataStart, dataStart + size));
    assert.equal(crc32(data), crc, `crc of ${name}`);
    files.set(name, data);
    at += 46 + nameLength;
  }
  return files;
}

describe('zip: the Lambda archive the rehearsal makes without the archive provider', () => {
  const entries = [
    { name: 'index.cjs', data: Buffer.from('exports.handler = async () => 1;\n'.repeat(50)) },
    { name: 'index.cjs.map', data: Buffer.from('{"version":3}') },
  ];

  it('holds each file with its name, content and CRC', () => {
    const files = unzip(zip(entries));
    assert.deepEqual([...files.keys()], ['index.cjs', 'index.cjs.map']);
    for (const entry of entries) assert.deepEqual(files.get(entry.name), entry.data);
  });

  it('is the same bytes for the same files (a stable source_code_hash)', () => {
    assert.deepEqual(zip(entries), zip(entries));
  });
});
