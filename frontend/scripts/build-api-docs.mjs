// Assembles dist/api-docs/: our page and start-up script plus the Swagger UI files it needs,
// copied from the installed swagger-ui-dist package so the reference works without internet.
// The server answers GET /api/docs with dist/api-docs/index.html and /api-docs/* from here.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'api-docs');
const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const vendorFiles = [
  'swagger-ui-bundle.js',
  'swagger-ui.css',
  'favicon-32x32.png',
  'LICENSE',
  'NOTICE',
];

await mkdir(out, { recursive: true });

for (const name of vendorFiles) {
  if (name.endsWith('.js') || name.endsWith('.css')) {
    // The source maps are not shipped; drop the comment that points at them so browsers with
    // developer tools open do not request a file that is not there.
    const text = await readFile(join(swaggerDir, name), 'utf8');
    await writeFile(
      join(out, name),
      text.replace(/\n?\/[/*]# sourceMappingURL=\S+(?: \*\/)?\s*$/, '\n'),
    );
  } else {
    await copyFile(join(swaggerDir, name), join(out, name));
  }
}
for (const name of ['index.html', 'init.js']) {
  await copyFile(join(root, 'api-docs', name), join(out, name));
}

const { version } = JSON.parse(await readFile(join(swaggerDir, 'package.json'), 'utf8'));
console.log(
  `api-docs: ${vendorFiles.length + 2} files with swagger-ui-dist ${version} -> dist/api-docs`,
);
