import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface Asset {
  contentType: string;
  body: Buffer;
}

const WEB_DIR = new URL('./web/', import.meta.url);

/**
 * The page and its assets, built in memory when the server starts: the front-end TypeScript bundled
 * with uPlot from node_modules, and uPlot's CSS with ours. Nothing is fetched from a CDN, so the page
 * works offline.
 */
export async function buildAssets(): Promise<Map<string, Asset>> {
  const result = await build({
    entryPoints: {
      app: fileURLToPath(new URL('main.ts', WEB_DIR)),
      styles: fileURLToPath(new URL('styles.css', WEB_DIR)),
    },
    bundle: true,
    write: false,
    outdir: '/assets',
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const contentType = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assets.set(`/assets/${name}`, { contentType, body: Buffer.from(file.contents) });
  }
  const html = await readFile(new URL('index.html', WEB_DIR));
  assets.set('/', { contentType: 'text/html; charset=utf-8', body: html });
  return assets;
}
