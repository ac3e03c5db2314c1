// Builds ../../static/vendor/bootstrap/bootstrap.used.min.js from index.js: the Bootstrap
// plugins the templates use, with Popper, bundled and minified by esbuild. Run by `make js`
// after `npm ci` (versions pinned in package.json and package-lock.json).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import * as esbuild from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', '..', 'static', 'vendor', 'bootstrap', 'bootstrap.used.min.js')
const version = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version
// The copyright line of a package's own licence file, for the banner (MIT asks the notice to travel).
const copyright = (name, file) => readFileSync(join(here, 'node_modules', name, file), 'utf8').match(/^Copyright .*$/m)[0]

// The plugins index.js imports, named in the banner: tests/test_js_bundle.py reads them
// there to prove every plugin a template asks for (data-bs-toggle="…") is in the file.
const entry = readFileSync(join(here, 'index.js'), 'utf8')
const COMPONENTS = [...entry.matchAll(/^import .* from 'bootstrap\/js\/src\/([a-z-]+)\.js'/gm)].map((m) => m[1]).sort()
if (!COMPONENTS.length) throw new Error('index.js imports no Bootstrap plugin')

// static/vendor/bootstrap/VERSION names the Bootstrap the CSS came from; the JS must be the same.
const vendored = readFileSync(join(here, '..', '..', 'static', 'vendor', 'bootstrap', 'VERSION'), 'utf8').match(/bootstrap (\S+)/)[1]
if (version('bootstrap') !== vendored) {
  throw new Error(`node_modules has bootstrap ${version('bootstrap')}, static/vendor/bootstrap/VERSION says ${vendored}`)
}

// The dropdown plugin calls Popper.createPopper on every open, in a navbar too (there it
// only turns Popper's styles off), so Popper stays in the bundle.
const banner = [
  `/*! Bootstrap v${version('bootstrap')} (https://getbootstrap.com/), ${copyright('bootstrap', 'LICENSE')}, Licensed under MIT (https://github.com/twbs/bootstrap/blob/main/LICENSE)`,
  ` * @popperjs/core v${version('@popperjs/core')} (https://popper.js.org), ${copyright('@popperjs/core', 'LICENSE.md')}, Licensed under MIT`,
  ` * components: ${COMPONENTS.join(', ')}`,
  ` * built by \`make js\` (tools/js/build.mjs, esbuild v${esbuild.version}) from tools/js/index.js; do not edit */`,
].join('\n')

await esbuild.build({
  entryPoints: [join(here, 'index.js')],
  outfile: out,
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'bootstrap',
  // The language level of Bootstrap's own dist files: optional chaining and ?? are lowered
  // (Bootstrap 5.3 supports Safari 12 and Chrome 60, which lack them).
  target: 'es2019',
  legalComments: 'none',
  banner: { js: banner },
  logLevel: 'warning',
})
console.log(`wrote ${out}`)
