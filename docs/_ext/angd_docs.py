"""Pages generated from the repository at the start of every documentation build.

Written when Sphinx has read ``conf.py`` (``config-inited``), before it looks for sources:

- ``guide/generated/solvers.inc.md``: one section per registered solver, with its options
  table built from its options dataclass (defaults) and the numpydoc entries of the class
  and the solver function (meaning), and ``guide/generated/presets.inc.md``: ANGD's presets;
- ``api/<module>.md``: the API page of each documented module, an autosummary of its
  ``__all__`` (an object exported by two modules is documented once, under the first);
- ``results/generated/<preset>.md``: each ``docs/figures/<preset>-REPORT.md`` and the
  figures ``docs/figures/<preset>-*.png`` of that preset;
- ``studies/generated/<study>.md``: each ``studies/<study>/README.md``, with the Markdown
  files it links to as sub-pages;
- ``_generated/benchmarks.inc.md``: every ``benchmarks/results/*.md``, and
  ``_generated/benchmark_scripts.inc.md``: ``benchmarks/README.md`` without its title;
- ``_generated/changelog.inc.md``: ``CHANGELOG.md``.

A missing file or folder gives a page that says so, never a broken build. Links from a
copied file to repository files that are not pages become the files' paths.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import re
import sys
import types
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent

#: The modules whose public names (``__all__``) the API reference documents, in this order.
API_MODULES = ("angd_np", "angd_np.nn", "angd_np.bank", "angd_np.solvers",
               "angd_np.experiments")

_ENTRY = re.compile(r"^(?P<indent>\s*)(?P<names>\*{0,2}[A-Za-z_][\w]*(?:, *[A-Za-z_]\w*)*)"
                    r" : (?P<type>.*)$")
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc):`~?\.?([^`]+)`")
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})(\s)")


def _write(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it already (an unchanged source is not rebuilt)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _cell(text: str) -> str:
    """One Markdown table cell: one line, RST roles as code, maths as MyST maths, pipes
    escaped."""
    text = _ROLE.sub(lambda m: f"``{m.group(1)}``", " ".join(text.split()))
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    text = re.sub(r":math:`([^`]+)`", r"{math}`\1`", text)
    return text.replace("|", r"\|")


def _accepted(typ: str) -> str:
    """The type of a numpydoc entry without its default (the table has a column for it)."""
    return re.sub(r",\s*(default\b.*|optional)$", "", typ.strip())


# ----------------------------------------------------------------------------- solvers

def doc_entries(doc: str | None) -> dict:
    """Numpydoc definition entries ``name : type`` + indented meaning, anywhere in ``doc``.

    Returns name -> (type, meaning). ``a, b : t`` defines both names; ``a : t; b : u`` on one
    line (a short form some docstrings use) defines each with its own type.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    out = {}
    for i, line in enumerate(lines):
        m = _ENTRY.match(line)
        if not m:
            continue
        indent = len(m["indent"])
        body = []
        for nxt in lines[i + 1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            body.append(nxt.strip())
        meaning = " ".join(b for b in body if b)
        parts = [(m["names"], m["type"])]
        while "; " in parts[-1][1]:
            head, _, rest = parts[-1][1].partition("; ")
            sub = re.match(r"([A-Za-z_]\w*) : (.*)$", rest)
            if not sub:
                break
            parts[-1] = (parts[-1][0], head)
            parts.append((sub[1], sub[2]))
        for names, typ in parts:
            names = [n.strip() for n in names.split(",")]
            types_ = [t.strip() for t in re.split(r",\s*(?![^{(\[]*[})\]])", typ)]
            if len(names) > 1 and len(types_) == len(names):  # "tol, patience : float, int"
                for name, one in zip(names, types_, strict=True):
                    out.setdefault(name, (one, meaning))
            else:
                for name in names:
                    out.setdefault(name, (typ.strip(), meaning))
    return out


def _default(field) -> str:
    if field.default is not dataclasses.MISSING:
        return repr(field.default)
    if field.default_factory is not dataclasses.MISSING:
        return repr(field.default_factory())
    return "required"


def options_table(spec) -> str:
    """The Markdown table of a solver's options: name, default, accepted values, meaning."""
    cls = spec.options
    if cls is None or not dataclasses.fields(cls):
        return "This solver takes no options.\n"
    docs = {}  # the base classes' entries, then the solver's docstring, then the class's
    for source in [k.__doc__ for k in reversed(cls.__mro__[1:])] + [
            inspect.getdoc(spec.solve), cls.__doc__]:
        docs.update(doc_entries(source))
    # ANGD's options name the network whose architecture options apply ("fcn", "cnn").
    takes_network = len(inspect.signature(cls.names).parameters) > 0
    names = cls.names(spec.name.removeprefix("angd-")) if takes_network else cls.names()
    # A solver with variants runs its first variant by default: show those values.
    base = spec.resolve({}) if spec.variants and spec.resolve else None
    head = f"default (`{spec.variants[0]}`)" if base is not None else "default"
    rows = [f"| option | {head} | accepted | meaning |", "| --- | --- | --- | --- |"]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in names:
        typ, meaning = docs.get(name, (str(fields[name].type), ""))
        default = repr(getattr(base, name)) if base is not None else _default(fields[name])
        rows.append(f"| `{name}` | `{_cell(default)}` | {_cell(_accepted(typ))} | "
                    f"{_cell(meaning) or '—'} |")
    return "\n".join(rows) + "\n"


def _summary(func) -> str:
    doc = inspect.getdoc(func) or ""
    return _cell(doc.split("\n\n")[0])


def solvers_page() -> str:
    from angd_np import solvers

    out = []
    for name in solvers.SPECS:
        spec = solvers.solver_spec(name)
        methods = ", ".join(f"`{m}`" for m in spec.methods())
        facts = [f"methods {methods}"]
        if spec.iterative:
            facts.append("iterative (takes `iters`, returns `history` and a continuable "
                         "`state`)")
        if spec.variants:
            facts.append("variants " + ", ".join(f"`{p}`" for p in spec.variants)
                         + f" (default `{spec.variants[0]}`)")
        if spec.extra:
            facts.append(f"needs `pip install 'angd_np[{spec.extra}]'`")
        if spec.threads:
            facts.append("parallelises a batch itself (`threads`)")
        func = f"{spec.solve.__module__}.{spec.solve.__qualname__}"
        out += [f"### `{name}`: {spec.label}", "",
                f"{_summary(spec.solve)} ({{py:func}}`{func}`)", "",
                "; ".join(facts) + ".", "", options_table(spec)]
    return "\n".join(out)


def presets_page() -> str:
    from angd_np.solvers import angd

    nets = sorted({net for p in angd.VARIANTS.values() for net in p})
    default = angd.ANGDOptions()
    names = [f.name for f in dataclasses.fields(angd.ANGDOptions)]
    cols = [(p, net) for p in angd.VARIANTS for net in nets]
    same = all(angd.VARIANTS[p][nets[0]] == angd.VARIANTS[p][n] for p in angd.VARIANTS
               for n in nets)
    if same:
        cols = [(p, nets[0]) for p in angd.VARIANTS]
    head = ["option", "dataclass default"] + [
        f"`{p}`" if same else f"`{p}` ({net})" for p, net in cols]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name in names:
        vals = [getattr(angd.VARIANTS[p][net], name) for p, net in cols]
        if all(v == getattr(default, name) for v in vals):
            continue
        cells = [f"`{name}`", f"`{_cell(repr(getattr(default, name)))}`"] + [
            f"**`{_cell(repr(v))}`**" if v != getattr(default, name) else f"`{_cell(repr(v))}`"
            for v in vals]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


# ----------------------------------------------------------------------------- API pages

def api_pages() -> dict:
    """Module name -> Markdown page: autosummary of its ``__all__``, each object once."""
    seen, pages = {}, {}
    for modname in API_MODULES:
        module = importlib.import_module(modname)
        own, others, submodules = [], [], []
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):
                submodules.append(name)
                continue
            if not isinstance(obj, (str, int, float, tuple, dict)) and id(obj) in seen:
                others.append((name, seen[id(obj)]))
                continue
            seen.setdefault(id(obj), f"{modname}.{name}")
            own.append(name)
        lines = [f"# `{modname}`", "", "```{eval-rst}", f".. automodule:: {modname}",
                 "   :no-members:", "", f".. currentmodule:: {modname}", "",
                 ".. autosummary::", "   :toctree: generated", ""]
        lines += [f"   {name}" for name in own] + ["```", ""]
        if submodules:
            lines += ["Subpackages: " + ", ".join(
                f"{{py:mod}}`{modname}.{name}`" for name in submodules) + ".", ""]
        if others:
            lines += ["Also exported here, documented under the name listed first:", ""]
            lines += [f"- `{modname}.{name}`: {{py:obj}}`{target}`" for name, target in others]
            lines.append("")
        pages[modname] = "\n".join(lines)
    return pages


# ----------------------------------------------------------------- copied Markdown files

def _levels(text: str, top: int) -> str:
    """Renumber the headings (outside code fences) to consecutive levels from ``top``."""
    lines, fence, used = text.splitlines(), False, set()
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        elif not fence and (m := _HEADING.match(line)):
            used.add(len(m[1]))
    remap = {lvl: min(6, top + i) for i, lvl in enumerate(sorted(used))}
    out, fence = [], False
    for line in lines:
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        elif not fence and (m := _HEADING.match(line)):
            line = "#" * remap[len(m[1])] + line[len(m[1]):]
        out.append(line)
    return "\n".join(out) + "\n"


def copy_markdown(src: Path, dest: Path, pages: dict, top: int = 1) -> str:
    """The text of ``src`` for a page written at ``dest``: headings renumbered from ``top``,
    links to files in ``pages`` (source path -> page path) pointing at their pages, images
    shown from where they are, links to any other repository file replaced by its path."""
    def link(m):
        bang, text, target = m.groups()
        if re.match(r"^[a-z]+:|^#", target):
            return m.group(0)
        path, _, anchor = target.partition("#")
        resolved = (src.parent / path).resolve()
        if resolved in pages:
            rel = os.path.relpath(pages[resolved], dest.parent)
            return f"[{text}]({Path(rel).as_posix()}{'#' + anchor if anchor else ''})"
        if bang and resolved.is_file():
            return f"![{text}]({Path(os.path.relpath(resolved, dest.parent)).as_posix()})"
        try:
            shown = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            shown = path
        return f"`{shown}`" if text.strip("`") == path else f"{text} (`{shown}`)"

    return _LINK.sub(link, _levels(src.read_text(encoding="utf-8"), top))


def _toc(names, what: str) -> str:
    """A toctree of the pages ``generated/NAME``, or a sentence saying there is no ``what``."""
    if not names:
        return f"No {what} is present in this source tree.\n"
    return "\n".join(["```{toctree}", ":maxdepth: 1", ""]
                     + [f"generated/{n}" for n in names] + ["```", ""])


def studies_pages() -> dict:
    """Page path -> text for every ``studies/*/README.md`` and the .md files it links to."""
    out, gen = {}, DOCS / "studies" / "generated"
    readmes = sorted((ROOT / "studies").glob("*/README.md"))
    pages = {}
    for readme in readmes:
        name = readme.parent.name
        pages[readme.resolve()] = gen / f"{name}.md"
        for md in sorted(readme.parent.glob("*.md")):
            if md.name != "README.md":
                pages[md.resolve()] = gen / name / f"{md.stem}.md"
    for src, dest in pages.items():
        text = copy_markdown(src, dest, pages)
        if src.name == "README.md":
            subs = [p for s, p in pages.items() if s.parent == src.parent and s != src]
            if subs:
                text += "\n```{toctree}\n:hidden:\n\n" + "\n".join(
                    Path(os.path.relpath(p, dest.parent)).with_suffix("").as_posix()
                    for p in subs) + "\n```\n"
        out[dest] = text
    out[gen / "toc.inc.md"] = _toc([r.parent.name for r in readmes],
                                   "study folder (`studies/*/README.md`)")
    return out


def results_pages() -> dict:
    """Page path -> text for every ``docs/figures/<preset>-REPORT.md`` and its figures."""
    out, gen, figures = {}, DOCS / "results" / "generated", DOCS / "figures"
    reports = sorted(figures.glob("*-REPORT.md"))
    for report in reports:
        preset = report.name.removesuffix("-REPORT.md")
        lines = [f"# Results: the `{preset}` preset", "",
                 f"The report and the figures below are the files `docs/figures/{preset}-*` "
                 f"that `python scripts/reproduce_paper.py --presets {preset} --figures-dir "
                 "docs/figures` writes; a new run refreshes this page. The report's first "
                 "paragraph names the command that wrote it, the trials of each figure, the "
                 "seed and the package version."]
        lines += ["", "```{include} ../../figures/" + report.name, ":heading-offset: 1",
                  "```", "", "## Figures of the run", ""]
        for png in sorted(figures.glob(f"{preset}-*.png")):
            name = png.stem.removeprefix(f"{preset}-")
            lines += [f"### {name}", "", f"```{{image}} ../../figures/{png.name}",
                      f":alt: {name}, {preset} preset", ":width: 100%", "```", ""]
        out[gen / f"{preset}.md"] = "\n".join(lines)
    out[gen / "toc.inc.md"] = _toc([r.name.removesuffix("-REPORT.md") for r in reports],
                                   "report (`docs/figures/*-REPORT.md`)")
    return out


def fragment_pages() -> dict:
    """The benchmark results and the changelog, as fragments to include."""
    gen = DOCS / "_generated"
    dest = gen / "benchmarks.inc.md"
    parts = [copy_markdown(md, dest, {}, top=2)
             for md in sorted((ROOT / "benchmarks" / "results").glob("*.md"))]
    out = {dest: "\n".join(parts) if parts else (
        "No benchmark result file (`benchmarks/results/*.md`) is present in this source "
        "tree.\n")}
    readme, dest = ROOT / "benchmarks" / "README.md", gen / "benchmark_scripts.inc.md"
    text = copy_markdown(readme, dest, {}, top=2) if readme.is_file() else ""
    out[dest] = re.sub(r"\A#+ [^\n]*\n+", "", text) or (
        "No `benchmarks/README.md` is present in this source tree.\n")
    changelog, dest = ROOT / "CHANGELOG.md", gen / "changelog.inc.md"
    out[dest] = copy_markdown(changelog, dest, {}) if changelog.is_file() else (
        "# Changelog\n\nThis source tree has no `CHANGELOG.md`.\n")
    return out


def submodules() -> list:
    """Every public module of the package (no ``_private`` part, not the CLI's ``__main__``)."""
    import pkgutil

    import angd_np

    names = [m.name for m in pkgutil.walk_packages(angd_np.__path__, "angd_np.")]
    out = []
    for name in names:
        parent, _, leaf = name.rpartition(".")
        attr = getattr(importlib.import_module(parent), leaf, None)
        shadowed = attr is not None and not isinstance(attr, types.ModuleType)  # solvers.spec
        if not (any(p.startswith("_") for p in name.split(".")) or name in API_MODULES
                or shadowed):
            out.append(name)
    return out


def _exported_ids() -> set:
    ids = set()
    for modname in API_MODULES:
        module = importlib.import_module(modname)
        ids |= {id(getattr(module, n)) for n in module.__all__}
    return ids


def modules_page() -> str:
    exported = _exported_ids()
    lines = ["# Modules", "",
             "The module docstrings: what each module holds, and the maths it implements. Its "
             "public functions and classes are documented under the names the package exports "
             "them by ({doc}`index`).", ""]
    for name in submodules():
        module = importlib.import_module(name)
        # Public names of the module that no exported name documents already (the options
        # dataclasses, helpers such as ``jakes_rho``; not constants, whose values can be long),
        # so that every reference resolves.
        extra = [n for n in getattr(module, "__all__", ())
                 if id(getattr(module, n)) not in exported
                 and callable(getattr(module, n))]
        lines += [f"## `{name}`", "", "```{eval-rst}", f".. automodule:: {name}"]
        lines += [f"   :members: {', '.join(extra)}"] if extra else ["   :no-members:"]
        lines += ["```", ""]
    return "\n".join(lines)


# ------------------------------------------------------- references by object identity

class _Aliases:
    """Documented name of each object, so that a reference to an object by the name of the
    module that defines it (``angd_np.system.Scenario``) finds its page (``angd_np.Scenario``)."""

    def __init__(self, env):
        self.by_id = {}
        for name, entry in env.get_domain("py").objects.items():
            obj = _locate(name)
            if obj is not None and not entry.aliased:
                self.by_id.setdefault(id(getattr(obj, "__func__", obj)), name)


def _locate(name: str):
    """The object a dotted name means, or None."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = inspect.getattr_static(obj, attr) if isinstance(obj, type) \
                    else getattr(obj, attr)
        except AttributeError:
            return None
        return getattr(obj, "__func__", obj)
    return None


def resolve_alias(app, env, node, contnode):
    """``missing-reference`` handler: resolve a Python reference to one of the package's own
    objects through the name under which that object is documented."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~")
    module, klass = node.get("py:module") or "", node.get("py:class") or ""
    if target.startswith("."):
        candidates = [f"{module}{target}", f"{module}.{klass}{target}"]
    else:
        candidates = [target, f"{module}.{target}", f"{module}.{klass}.{target}"]
    if not hasattr(env, "_angd_aliases"):
        env._angd_aliases = _Aliases(env)
    for cand in candidates:
        if not cand.startswith("angd_np"):
            continue
        obj = _locate(cand)
        name = None if obj is None else env._angd_aliases.by_id.get(id(obj))
        if name is None and obj is not None and isinstance(obj, types.ModuleType):
            name = obj.__name__ if obj.__name__ in env.get_domain("py").modules else None
        if name:
            return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, "obj",
                                                     name, node, contnode)
    # A short name (``Scenario.draw``, ``load``): the documented object it ends, nearest to
    # the referring module when several do.
    ends = [n for n in env.get_domain("py").objects if n.endswith("." + target)]
    if ends:
        def shared(n):
            return len(os.path.commonprefix([n.split("."), module.split(".")]))
        best = max(map(shared, ends))
        nearest = [n for n in ends if shared(n) == best]
        if len(nearest) == 1:
            return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, "obj",
                                                     nearest[0], node, contnode)
    return None


def data_docstring(app, what, name, obj, options, lines):
    """``autodoc-process-docstring`` handler: a constant exported from another module gets
    the ``#:`` comment written beside its definition, not the docstring of its type."""
    if what not in ("data", "attribute") or not name.startswith("angd_np"):
        return
    from sphinx.pycode import ModuleAnalyzer

    short = name.rsplit(".", 1)[-1]
    for modname in [m for m in list(sys.modules) if m.startswith("angd_np")]:
        module = sys.modules[modname]
        if getattr(module, short, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # a module without source: nothing to read
            continue
        if ("", short) in docs:
            lines[:] = [line for line in docs[("", short)]]
            return
    if "\n".join(lines).strip() == inspect.cleandoc(type(obj).__doc__ or "").strip():
        lines[:] = []


_PROPERTY_DOCS = {}


def keep_property(app, what, name, obj, options, lines):
    """``autodoc-process-docstring`` handler run before napoleon: remember a property's
    docstring, which is prose ("H^H as a contiguous array of shape (..., K, M): ..."), not
    napoleon's ``type: meaning``."""
    if what == "property":
        _PROPERTY_DOCS[name] = list(lines)


def restore_property(app, what, name, obj, options, lines):
    """Run after napoleon: put the property's prose back."""
    if what == "property" and name in _PROPERTY_DOCS:
        lines[:] = _PROPERTY_DOCS.pop(name)


def generate(app=None, config=None) -> None:
    """Write every generated page (Sphinx ``config-inited`` handler)."""
    files = {DOCS / "guide" / "generated" / "solvers.inc.md": solvers_page(),
             DOCS / "guide" / "generated" / "presets.inc.md": presets_page()}
    files.update({DOCS / "api" / f"{mod}.md": text for mod, text in api_pages().items()})
    files[DOCS / "api" / "angd_np.modules.md"] = modules_page()
    files.update(studies_pages())
    files.update(results_pages())
    files.update(fragment_pages())
    for path, text in files.items():
        _write(path, text)
    # A page whose source is gone (a study folder removed) must not linger outside any toctree.
    for folder in (DOCS / "studies" / "generated", DOCS / "results" / "generated"):
        for old in folder.rglob("*.md"):
            if old not in files:
                old.unlink()


def setup(app):
    app.connect("config-inited", generate)
    app.connect("missing-reference", resolve_alias)
    app.connect("autodoc-process-docstring", data_docstring)
    app.connect("autodoc-process-docstring", keep_property, priority=100)
    app.connect("autodoc-process-docstring", restore_property, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
