import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { defineConfig, defaultClientConditions, type Plugin } from 'vite';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const FACE_API_DIR = dirname(require.resolve('@vladmandic/face-api/package.json'));
const TFJS_ESM = join(dirname(require.resolve('@tensorflow/tfjs/package.json')), 'dist', 'index.js');

/**
 * Files the page fetches at run time, served from where they are installed (no network, no copies in git):
 * the shipped default model and face-api's tiny face detector weights. Dev: middleware; build: emitted assets.
 */
const STATIC: Record<string, { dir: string; files?: string[] }> = {
  '/default-model/': { dir: resolve(HERE, '../default-model/run/model') },
  '/face-api-model/': { dir: join(FACE_API_DIR, 'model'), files: ['tiny_face_detector_model-weights_manifest.json', 'tiny_face_detector_model.bin'] },
};

function staticFiles(): Plugin {
  const list = (dir: string, files?: string[]): string[] => files ?? readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  return {
    name: 'keypoints-demo-static',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0];
        for (const [prefix, { dir, files }] of Object.entries(STATIC)) {
          if (!url.startsWith(prefix)) continue;
          const name = decodeURIComponent(url.slice(prefix.length));
          if (!list(dir, files).includes(name)) break;
          res.setHeader('Content-Type', name.endsWith('.json') ? 'application/json' : 'application/octet-stream');
          createReadStream(join(dir, name)).pipe(res);
          return;
        }
        next();
      });
    },
    generateBundle() {
      for (const [prefix, { dir, files }] of Object.entries(STATIC)) {
        for (const name of list(dir, files)) {
          this.emitFile({ type: 'asset', fileName: prefix.slice(1) + name, source: readFileSync(join(dir, name)) });
        }
      }
    },
  };
}

export default defineConfig({
  root: join(HERE, 'app'),
  base: './',
  publicDir: false,
  // Workspace packages from their TypeScript sources; one tfjs (face-api's browser build imports dist/index.js).
  resolve: {
    conditions: ['@keypoints/source', ...defaultClientConditions],
    alias: [{ find: /^@tensorflow\/tfjs$/, replacement: TFJS_ESM }],
  },
  build: {
    outDir: join(HERE, 'dist'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    rollupOptions: { input: { main: join(HERE, 'app', 'index.html'), portable: join(HERE, 'app', 'portable.html') } },
  },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  server: { host: '127.0.0.1', port: 4173, strictPort: true, fs: { allow: [resolve(HERE, '../..')] } },
  plugins: [staticFiles()],
});
