"""
The nearest peer, django-import-export, on the same data and the same floor (optional).

Not part of the test suite or CI, and not installed in the project's environment: run it from a
separate virtual environment (see ``benchmarks/README.md``)::

    python3 -m venv /tmp/djvenv
    /tmp/djvenv/bin/pip install django django-import-export==4.4.3 pandas
    /tmp/djvenv/bin/python benchmarks/bench_django.py --rows 5000

A minimal Django lives in this script: ``settings.configure`` with a SQLite file, a
``Person`` model (first_name, last_name, unique email, department, groups as a many-to-many to
``Group``) created with ``schema_editor`` (no migrations). The generated CSV is imported with a
``ModelResource`` (``import_id_fields = ("email",)``; groups through a ``ManyToManyWidget`` on
``name`` with separator ``,``): a dry run, then the real import, as the admin does. Groups must
exist before django-import-export can link them, so all 50 are created (untimed) first.

The floor and the import (dry run and real import, the store reset untimed before each) run
once per round, in alternating order (see ``_rounds.py``); the times are medians over the
rounds and the ratio the median of the per-round ratios, with their minimum and maximum.

Usage: python benchmarks/bench_django.py [--rows 5000] [--rounds 3] [--scenarios fresh reimport]
"""

from __future__ import annotations

import argparse
import csv
import functools
import importlib.metadata
import resource
import sys
import tempfile
import time
import types
from pathlib import Path
from statistics import median
from typing import Any

from _rounds import Load, alternate, ratios
from bench_pipeline import best, data_files, floor, generator, machine


def setup_django(db: Path, skip_unchanged: bool) -> tuple[Any, Any, Any]:
    """Configure Django on a SQLite file; return the Group and Person models and the resource."""
    import django
    from django.apps import AppConfig
    from django.conf import settings

    # An app for the models below, without a package on disk.
    app = types.ModuleType("bench_app")

    class BenchConfig(AppConfig):
        name = "bench_app"
        label = "bench"
        path = str(db.parent)

    app.BenchConfig = BenchConfig  # type: ignore[attr-defined]
    sys.modules["bench_app"] = app
    settings.configure(
        DEBUG=False,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)}},
        INSTALLED_APPS=["django.contrib.contenttypes", "import_export", "bench_app.BenchConfig"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        IMPORT_EXPORT_USE_TRANSACTIONS=True,
    )
    django.setup()

    from django.db import connection, models
    from import_export import fields, resources, widgets

    skip = skip_unchanged  # the Meta class below cannot read a name it assigns

    class Group(models.Model):
        name = models.CharField(max_length=80, unique=True)

        class Meta:
            app_label = "bench"

    class Person(models.Model):
        first_name = models.CharField(max_length=150, blank=True)
        last_name = models.CharField(max_length=150, blank=True)
        email = models.EmailField(unique=True)
        department = models.CharField(max_length=150, blank=True)
        groups = models.ManyToManyField(Group, blank=True)

        class Meta:
            app_label = "bench"

    class PersonResource(resources.ModelResource):
        groups = fields.Field(
            attribute="groups",
            column_name="groups",
            widget=widgets.ManyToManyWidget(Group, field="name", separator=","),
        )

        class Meta:
            model = Person
            import_id_fields = ("email",)
            skip_unchanged = skip
            fields = ("first_name", "last_name", "email", "department", "groups")

    with connection.schema_editor() as editor:
        editor.create_model(Group)
        editor.create_model(Person)  # and the many-to-many table
    return Group, Person, PersonResource


def reset(group_model: Any, person_model: Any, current: Path) -> None:
    """Empty the tables, then store the users of ``current`` and every group (untimed)."""
    from django.db import transaction

    with transaction.atomic():
        person_model.groups.through.objects.all().delete()
        person_model.objects.all().delete()
        group_model.objects.all().delete()
        groups = {name: group_model.objects.create(name=name) for name in generator().GROUP_POOL}
        with current.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        people = person_model.objects.bulk_create(
            person_model(
                first_name=r["first_name"],
                last_name=r["last_name"],
                email=r["email"],
                department=r["department"],
            )
            for r in rows
        )
        through = person_model.groups.through
        through.objects.bulk_create(
            through(person_id=p.pk, group_id=groups[g].pk)
            for p, r in zip(people, rows, strict=True)
            for g in r["groups"].split(",")
        )


def run(resource_class: Any, path: Path, dry_run: bool) -> Any:
    """Read the CSV into a tablib Dataset and import it: what the admin's import view does."""
    import tablib

    dataset = tablib.Dataset().load(path.read_text(encoding="utf-8"), format="csv")
    result = resource_class().import_data(dataset, dry_run=dry_run)
    if result.has_errors() or result.has_validation_errors():
        errors = [e.error for e in result.base_errors]
        errors += [e.error for _, row in result.row_errors()[:3] for e in row]
        errors += [row.error for row in result.invalid_rows[:3]]
        raise RuntimeError(f"django-import-export reported errors on {path}: {errors}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, nargs="+", default=[5000])
    parser.add_argument(
        "--scenarios", nargs="+", choices=("fresh", "reimport"), default=["fresh", "reimport"]
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternated rounds of the floor and the import"
    )
    parser.add_argument(
        "--skip-unchanged",
        action="store_true",
        help="set the resource's skip_unchanged (off by default, as in django-import-export)",
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)

    cpu, python = machine()[:2]
    packages = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("django", "django-import-export", "tablib", "pandas")
    )
    for line in (cpu, python, packages, time.strftime("%Y-%m-%d %H:%M")):
        print(f"{line}  " if args.markdown else line)
    print()
    header = ["rows", "scenario", "floor (s)", "dry run (s)", "import (s)", "total (s)"]
    header += ["x floor: median (min-max)", "file rows/s", "load"]
    table: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="userimport-bench-django-") as tmp:
        folder = Path(tmp)
        group_model, person_model, resource_class = setup_django(
            folder / "django.db", args.skip_unchanged
        )
        # Imports and first-call costs, untimed: the floor and a dry run on 200 rows.
        (folder / "warm").mkdir()
        warm = data_files(200, folder / "warm", xlsx=False)
        floor(warm["empty"], warm["initial"])
        reset(group_model, person_model, warm["empty"])
        run(resource_class, warm["initial"], dry_run=True)
        for n in args.rows:
            files = data_files(n, folder, xlsx=False)
            for scenario in args.scenarios:
                current = files["empty"] if scenario == "fresh" else files["initial"]
                source = files["initial"] if scenario == "fresh" else files["modified"]

                def contender(name: str, current: Path = current, source: Path = source) -> Any:
                    if name == "floor":
                        return best(functools.partial(floor, current, source), 1)[0]
                    reset(group_model, person_model, current)  # untimed
                    started = time.perf_counter()
                    dry = run(resource_class, source, dry_run=True)
                    t_dry = time.perf_counter() - started
                    started = time.perf_counter()
                    real = run(resource_class, source, dry_run=False)
                    t_real = time.perf_counter() - started
                    print(
                        f"  {source.name}: dry run {dict(dry.totals)}, import {dict(real.totals)}",
                        file=sys.stderr,
                    )
                    return t_dry, t_real, real.total_rows

                load = Load()
                done = alternate(["floor", "django"], contender, args.rounds, label=f"{scenario} ")
                load.done()
                floors = done["floor"]
                dries = [d for d, _, _ in done["django"]]
                reals = [r for _, r, _ in done["django"]]
                totals = [d + r for d, r in zip(dries, reals, strict=True)]
                rows = done["django"][0][2]
                table.append(
                    [
                        f"{n:,}",
                        scenario,
                        f"{median(floors):.3f}",
                        f"{median(dries):.2f}",
                        f"{median(reals):.2f}",
                        f"{median(totals):.2f}",
                        ratios(totals, floors).ratio(),
                        f"{rows / median(totals):,.0f}",
                        str(load),
                    ]
                )
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + " --- |" * len(header))
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
        for row in table:
            print("  ".join(f"{v:>{w}}" for v, w in zip(row, widths, strict=True)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB (all scenarios, one process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
