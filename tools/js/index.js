// The Bootstrap plugins the templates use, and nothing else (`make js` bundles this file).
// Importing a plugin registers its data API (data-bs-toggle="…") on the document, so no
// other script is needed. To use another plugin, import it here and run `make js`: the
// built file's banner lists the plugins imported here, and tests/test_js_bundle.py fails
// while a template asks for one the built file lacks.
import Collapse from 'bootstrap/js/src/collapse.js'
import Dropdown from 'bootstrap/js/src/dropdown.js'

// Exported as window.bootstrap, as the full bundle does, for a script that drives a plugin.
export { Collapse, Dropdown }
