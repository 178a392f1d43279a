"""``sos-vo models``: list, inspect, install, pack and remove model folders."""

from __future__ import annotations

import argparse

NAME = "models"
HELP = ("List, inspect (model card), install (from a folder or a .tar.gz/.zip archive, checksums "
        "verified), pack for sharing and remove trained model folders.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``sos-vo models``."""
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="installed models: shipped with sos-vo and user-installed",
                       description="List the shipped and the user-installed models.")
    p.add_argument("--paths", action="store_true", help="also print each model's folder")
    p = sub.add_parser("show", help="model card and provenance of a model",
                       description="Print the model card, the provenance and the files (checked "
                                   "against SHA256SUMS) of a model.")
    p.add_argument("model", metavar="NAME|PATH", help="installed name or model folder")
    p = sub.add_parser("install", help="install a model folder or archive",
                       description="Install a model folder, .tar.gz/.tgz or .zip archive into "
                                   "the user models directory ($SOS_VO_MODELS_DIR, default "
                                   "~/.sos-vo/models); every file is checked against the "
                                   "model's SHA256SUMS before the model appears.")
    p.add_argument("source", metavar="PATH|ARCHIVE", help="model folder or archive file")
    p.add_argument("--name", help="installed name (default: the folder or archive name)")
    p.add_argument("--sha256", metavar="HEX", help="expected SHA-256 of the archive file")
    p.add_argument("--overwrite", action="store_true", help="replace a user model of that name")
    p = sub.add_parser("pack", help="write a model as an archive for sharing",
                       description="Write a model as a reproducible .tar.gz/.tgz or .zip archive "
                                   "and print its SHA-256.")
    p.add_argument("model", metavar="NAME|PATH", help="installed name or model folder")
    p.add_argument("--out", required=True, metavar="ARCHIVE",
                   help="archive to write (.tar.gz, .tgz or .zip)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing archive")
    p = sub.add_parser("remove", help="delete a user-installed model",
                       description="Delete a user-installed model (shipped models stay).")
    p.add_argument("name", metavar="NAME", help="installed name")


def _list(args: argparse.Namespace) -> int:
    from astropy.table import Table

    from ..exceptions import ModelFormatError
    from ..ml.registry import list_models, user_models_dir

    rows = []
    for m in list_models():
        try:
            row = m.folder.summary()
        except ModelFormatError as exc:  # a broken folder is listed, not fatal
            row = {"name": m.name, "survey": "?", "labels": f"unreadable: {exc}"}
        row["where"] = m.where
        if args.paths:
            row["path"] = str(m.path)
        rows.append(row)
    print(f"user models directory: {user_models_dir()} (set SOS_VO_MODELS_DIR to change)")
    if not rows:
        print("no models installed")
        return 0
    keys = list(dict.fromkeys(k for r in rows for k in r))
    table = Table(rows=[[r.get(k, "") for k in keys] for r in rows], names=keys,
                  dtype=[str] * len(keys))
    table.pprint(max_lines=-1, max_width=-1)
    return 0


def _show(args: argparse.Namespace) -> int:
    from ..ml.modelfolder import LAYOUT, ModelFolder
    from ..ml.registry import find_model, get_installed

    folder = ModelFolder(find_model(args.model))
    checked = set(folder.verify())
    print(folder.stored_card().rstrip("\n"))
    installed = get_installed(args.model) if folder.path.name == args.model else None
    print("\n## Folder\n")
    print(f"- path: {folder.path}")
    if installed is not None:
        print(f"- installed: {installed.where}")
    if folder.has_manifest:
        print(f"- checksums: all {len(checked)} files match SHA256SUMS")
    else:
        print("- checksums: no SHA256SUMS (a folder written before checksum manifests); "
              f"{', '.join(sorted(checked))} match the checksums in model.json")
    print("\n| file | bytes | content |\n|---|---|---|")
    for name in folder.files():
        size = folder.file(name).stat().st_size
        print(f"| {name} | {size} | {LAYOUT.get(name, 'not part of the model layout')} |")
    return 0


def _install(args: argparse.Namespace) -> int:
    from ..ml.registry import install_model

    model = install_model(args.source, name=args.name, sha256=args.sha256,
                          overwrite=args.overwrite)
    summary = model.folder.summary()
    print(f"installed {model.name} ({summary['survey']}, {summary['labels']} labels, "
          f"{summary['n_members']} members) in {model.path}")
    return 0


def _pack(args: argparse.Namespace) -> int:
    from ..ml.modelfolder import ModelFolder
    from ..ml.registry import find_model

    path, sha = ModelFolder(find_model(args.model)).pack(args.out, overwrite=args.overwrite)
    print(f"wrote {path}")
    print(f"sha256 {sha}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from ..ml.registry import remove_model

    print(f"removed {remove_model(args.name)}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one ``sos-vo models`` action."""
    return {"list": _list, "show": _show, "install": _install, "pack": _pack,
            "remove": _remove}[args.models_command](args)
