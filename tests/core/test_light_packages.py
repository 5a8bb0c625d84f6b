"""core/light_packages.py: `from fastapi import HTTPException` (and the other light names) imports only FastAPI's
light modules, Haystack's pipelines use NetworkX's graph classes without its algorithms; anything else gets all
of the package, in the same module objects. Fresh processes: import state is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.cold import ROOT, clean_env

SETUP = """
import json, sys
from core.light_packages import FASTAPI, NETWORKX, is_light, serve_light
assert serve_light(FASTAPI) is not None and serve_light(NETWORKX) is not None

def fastapi_modules():
    return sorted(m for m in sys.modules if m == "fastapi" or m.startswith("fastapi."))

def before_executing(fullname, hook):
    # hook() runs in the importing thread just before `fullname`'s code does (half-way through an `__init__`)
    from importlib.abc import Loader, MetaPathFinder
    from importlib.machinery import PathFinder

    class Hooked(Loader):
        def __init__(self, loader):
            self.loader = loader

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            hook()
            self.loader.exec_module(module)

    class At(MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != fullname:
                return None
            spec = PathFinder.find_spec(name, path, target)
            spec.loader = Hooked(spec.loader)
            return spec

    sys.meta_path.insert(0, At())

def networkx_state():
    modules = sorted(m for m in sys.modules if m == "networkx" or m.startswith("networkx."))
    return {
        "light": is_light(sys.modules.get("networkx")),
        "outside": [m for m in modules if m != "networkx" and not NETWORKX.covers(m)],
    }
"""


def _fresh(code: str, *more_paths: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", SETUP + textwrap.dedent(code)],
        cwd=ROOT,
        env=clean_env(PYTHONPATH=":".join((str(ROOT), *more_paths))),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_wrappers_names_import_only_the_light_modules():
    out = _fresh(
        """
        from fastapi import HTTPException, Request, Response, UploadFile, WebSocketException, status
        from fastapi.responses import JSONResponse, StreamingResponse
        from pydantic import create_model
        model = create_model("Files", files=(list[UploadFile], ...))  # what a wrapper taking files builds
        model.model_json_schema()
        light = is_light(sys.modules["fastapi"])
        modules = fastapi_modules()
        import fastapi.exceptions
        print(json.dumps({
            "light": light,
            "outside": [m for m in modules if m != "fastapi" and not FASTAPI.covers(m)],
            "same": HTTPException is fastapi.exceptions.HTTPException and status.HTTP_200_OK == 200,
        }))
        """
    )
    assert out == {"light": True, "outside": [], "same": True}


def test_any_other_name_imports_all_of_fastapi_in_place():
    out = _fresh(
        """
        from fastapi import HTTPException
        package = sys.modules["fastapi"]
        from fastapi import FastAPI, APIRouter
        import fastapi
        print(json.dumps({
            "same_module": fastapi is package,
            "light": is_light(fastapi),
            "version": fastapi.__version__,
            "routes": len(FastAPI().routes) > 0,
            "same_class": fastapi.HTTPException is HTTPException,
            "getattr_gone": "__getattr__" not in vars(fastapi),
            "missing": not hasattr(fastapi, "no_such_name"),
        }))
        """
    )
    assert out == {
        "same_module": True,
        "light": False,
        "version": out["version"],
        "routes": True,
        "same_class": True,
        "getattr_gone": True,
        "missing": True,
    }


def test_importing_another_submodule_first_runs_the_package_init_once():
    out = _fresh(
        """
        from fastapi import HTTPException
        import fastapi.routing  # a submodule outside the light set, while the package is light
        import fastapi.encoders
        import fastapi
        print(json.dumps({
            "light": is_light(fastapi),
            "same": fastapi.routing is sys.modules["fastapi.routing"]
            and fastapi.APIRouter is fastapi.routing.APIRouter,
            "loader": type(fastapi.routing.__spec__.loader).__name__,
            "package_loader": type(fastapi.__loader__).__name__,
        }))
        """
    )
    assert out == {"light": False, "same": True, "loader": "SourceFileLoader", "package_loader": "SourceFileLoader"}


def test_star_import_and_dunders():
    out = _fresh(
        """
        import fastapi
        probe = hasattr(fastapi, "__wrapped__")  # a dunder probe (inspect, pickle) does not load FastAPI
        light = is_light(fastapi)
        namespace = {}
        exec("from fastapi import *", namespace)
        print(json.dumps({"probe": probe, "light_before": light, "FastAPI": "FastAPI" in namespace}))
        """
    )
    assert out == {"probe": False, "light_before": True, "FastAPI": True}


def test_a_process_that_imported_fastapi_is_left_alone():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import fastapi, sys\nfrom core.light_packages import FASTAPI, LightPackageFinder, serve_light\n"
            "print(serve_light(FASTAPI) is None and not any(isinstance(f, LightPackageFinder) for f in sys.meta_path))",
        ],
        cwd=ROOT,
        env=clean_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.strip() == "True", proc.stderr


def test_a_light_name_read_while_another_thread_runs_the_package_init():
    """Thread A runs `fastapi/__init__` (a wrapper's `from fastapi import FastAPI`, the pipelines loading in
    parallel) while thread B reads `from fastapi import HTTPException`: B gets the class, as a plain import
    would give it once A is done, not the ImportError of a half-run `__init__` (where `HTTPException` is bound
    only after `fastapi.applications`, the slow part)."""
    out = _fresh(
        """
        import threading
        read = {}

        def light_name():
            try:
                from fastapi import HTTPException
                read["class"] = HTTPException.__module__ + "." + HTTPException.__name__
            except ImportError as exc:
                read["class"] = f"ImportError: {exc}"

        def read_in_another_thread():  # B reads as A starts running fastapi.applications
            reader = threading.Thread(target=light_name)
            reader.start()
            reader.join(10)

        before_executing("fastapi.applications", read_in_another_thread)
        import fastapi
        from fastapi import FastAPI, HTTPException
        print(json.dumps({
            "read": read.get("class"),
            "same": HTTPException is fastapi.exceptions.HTTPException,
            "light": is_light(fastapi),
            "getattr_gone": "__getattr__" not in vars(fastapi),
        }))
        """
    )
    assert out == {"read": "fastapi.exceptions.HTTPException", "same": True, "light": False, "getattr_gone": True}


def test_haystack_builds_and_runs_pipelines_on_networkx_graph_classes_only():
    out = _fresh(
        """
        from haystack import Pipeline
        from haystack.components.builders import PromptBuilder
        from haystack.components.joiners import BranchJoiner
        pipeline = Pipeline()
        pipeline.add_component("first", PromptBuilder(template="{{ text }}!"))
        pipeline.add_component("second", PromptBuilder(template="<{{ prompt }}>"))
        pipeline.add_component("joiner", BranchJoiner(str))
        pipeline.connect("first.prompt", "second.prompt")
        pipeline.connect("second.prompt", "joiner.value")
        result = pipeline.run({"first": {"text": "hi"}})
        again = Pipeline.loads(pipeline.dumps()).run({"first": {"text": "yo"}})
        pipeline.inputs(), pipeline.outputs(), pipeline.graph.copy()
        print(json.dumps({"result": result["joiner"]["value"], "again": again["joiner"]["value"], **networkx_state()}))
        """
    )
    assert out == {"result": "<hi!>", "again": "<yo!>", "light": True, "outside": []}


def test_each_light_networkx_name_is_the_object_the_whole_package_binds():
    out = _fresh(
        """
        import networkx
        served = {name: getattr(networkx, name) for name in NETWORKX.names}
        from networkx import convert, classes, utils, exception
        modules = {"convert": convert, "classes": classes, "utils": utils, "exception": exception}
        light = is_light(networkx)
        networkx.__version__  # runs __init__ in place
        print(json.dumps({
            "light_before": light,
            "light_after": is_light(networkx),
            "differ": [n for n, v in {**served, **modules}.items() if getattr(networkx, n) is not v],
            "dispatch_config": networkx.utils.backends.backend_info.get("networkx") == {},
        }))
        """
    )
    assert out == {"light_before": True, "light_after": False, "differ": [], "dispatch_config": True}


def test_a_pipeline_that_calls_networkx_algorithms_gets_the_whole_package():
    """Haystack sorts the graph when waiting components tie (`_topological_sort`): `networkx.is_directed_acyclic_graph`
    is not a light name, so NetworkX's `__init__` runs in place and the sort is NetworkX's own."""
    out = _fresh(
        """
        from haystack import Pipeline
        from haystack.components.builders import PromptBuilder
        pipeline = Pipeline()
        for name in ("c", "a", "b"):
            pipeline.add_component(name, PromptBuilder(template="{{ prompt }}"))
        pipeline.connect("c.prompt", "a.prompt")
        pipeline.connect("a.prompt", "b.prompt")
        before = networkx_state()
        order = pipeline._topological_sort()
        import networkx.algorithms.dag
        print(json.dumps({"before": before, "order": order, "after": networkx_state()["light"],
                          "dag": networkx.algorithms.dag.is_directed_acyclic_graph(pipeline.graph)}))
        """
    )
    assert out == {
        "before": {"light": True, "outside": []},
        "order": {"c": 0, "a": 1, "b": 2},
        "after": False,
        "dag": True,
    }


def test_a_thread_needing_networkx_while_another_runs_its_init_waits_for_it():
    """Pipelines set up in parallel (core/loader.py): thread A's tie runs NetworkX's `__init__`; thread B, asking
    for an algorithm meanwhile, waits and gets it, as it would wait for a plain import in progress, instead of
    the AttributeError of a half-run package. `__init__` runs once."""
    out = _fresh(
        """
        import threading
        import networkx
        from networkx import MultiDiGraph
        started, release, events = threading.Event(), threading.Event(), []

        def pause():  # A stops half-way through `__init__` (at networkx.generators) until released
            started.set()
            release.wait(10)

        before_executing("networkx.generators", pause)
        graph = MultiDiGraph()
        graph.add_edge("a", "b")
        results = {}

        def algorithm(name):
            try:
                results[name] = networkx.is_directed_acyclic_graph(graph)
            except Exception as exc:
                results[name] = f"{type(exc).__name__}: {exc}"
            events.append(name)

        a = threading.Thread(target=algorithm, args=("A",))
        a.start()
        started.wait(10)
        b = threading.Thread(target=algorithm, args=("B",))
        b.start()
        b.join(0.5)
        events.append("released")
        release.set()
        a.join(10)
        b.join(10)
        print(json.dumps({"results": results, "b_waited": events.index("released") < events.index("B"),
                          "light": is_light(networkx)}))
        """
    )
    assert out == {"results": {"A": True, "B": True}, "b_waited": True, "light": False}


def test_an_init_that_failed_runs_again_on_the_next_access():
    """A plain import that fails leaves nothing in sys.modules, so the next import runs `__init__` again; the
    light package stays light after a failed `__init__`, for the same retry."""
    out = _fresh(
        """
        from importlib.abc import MetaPathFinder

        class FailOnce(MetaPathFinder):
            failed = False

            def find_spec(self, fullname, path, target=None):
                if fullname == "networkx.generators" and not FailOnce.failed:
                    FailOnce.failed = True
                    raise ImportError("a transient failure")
                return None

        sys.meta_path.insert(0, FailOnce())
        import networkx
        attempts = []
        for _ in range(2):
            try:
                attempts.append(networkx.is_directed_acyclic_graph(networkx.MultiDiGraph()))
            except ImportError as exc:
                attempts.append(f"ImportError: {exc}")
        print(json.dumps({"attempts": attempts, "light": is_light(networkx)}))
        """
    )
    assert out == {"attempts": ["ImportError: a transient failure", True], "light": False}


def test_dir_of_a_light_package_lists_every_name():
    out = _fresh(
        """
        import networkx
        light = is_light(networkx)
        names = dir(networkx)
        print(json.dumps({"light_before": light, "light_after": is_light(networkx),
                          "has": all(n in names for n in ("MultiDiGraph", "topological_sort", "__version__"))}))
        """
    )
    assert out == {"light_before": True, "light_after": False, "has": True}


def test_with_a_networkx_backend_installed_the_import_is_the_plain_one(tmp_path):
    """A backend's details are read by `__init__` before the graph classes are defined, and the classes'
    dispatchers record them: the light order would differ, so with a backend NetworkX is imported whole."""
    info = tmp_path / "fake_nx_backend-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-nx-backend\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[networkx.backends]\nfake = fake_nx_backend:interface\n\n"
        "[networkx.backend_info]\nfake = fake_nx_backend:get_info\n"
    )
    (tmp_path / "fake_nx_backend.py").write_text(
        "def get_info():\n"
        "    return {'backend_name': 'fake', 'project': 'fake', 'package': 'fake_nx_backend',\n"
        "            'functions': {'multidigraph__new__': {}}, 'default_config': {}}\n"
        "interface = object()\n"
    )
    out = _fresh(
        """
        import networkx
        print(json.dumps({"light": is_light(networkx), "backends": sorted(networkx.MultiDiGraph.__new__.backends)}))
        """,
        str(tmp_path),
    )
    assert out == {"light": False, "backends": ["fake", "networkx"]}
