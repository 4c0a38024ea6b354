"""The core and the simulator must work without Textual: the UI subscribes to them, never the
other way round."""

import pkgutil
import subprocess
import sys

import balloontui.core
import balloontui.sim


def _modules(package) -> list[str]:
    return [f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(package.__path__)]


def test_no_core_or_sim_module_imports_textual():
    modules = _modules(balloontui.core) + _modules(balloontui.sim)
    assert len(modules) > 10
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(leaked[:5])\n"
        "sys.exit(1 if leaked else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"core/sim imported Textual: {result.stdout}{result.stderr}"
