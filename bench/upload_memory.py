"""Peak server memory of the worst uploads within the documented limits.

Each case starts a fresh `fostering serve` (SQLite in a temporary directory, scheduler off)
on a free loopback port, posts one file as a dry run, and prints the answer's status, the
seconds it took and the server's peak resident set (VmHWM of the server process, read from
/proc just before it is stopped; `fostering serve` runs one process). The goal: no upload
within the limits takes the server above 600 MB.

    .venv/bin/python bench/upload_memory.py [--only NAME ...] [--output bench/results/F.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.memory import peak_rss_mib
from tracker.core.upload_limits import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_IMPORT_ROWS,
    MAX_LINE_CHARS,
    MAX_SHEET_ROWS,
    MAX_SSDA903_ROWS,
    MAX_TEXT_CHARS,
)

BIN = Path(sys.executable).parent
STOKE = "E06000021"
LIMIT = 20_000_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENQUIRY_HEADER = (
    "external_ref,received_on,channel,campaign,enquirer_name,email,phone,postcode_district"
)


def _fill(
    header: str, row: Callable[[int], str], limit: int = LIMIT - 200_000, rows: int = 10**9
) -> bytes:
    """A CSV of `header` and rows up to just under `limit` bytes or `rows` rows."""
    out, size, n = [header + "\n"], len(header) + 1, 0
    while size < limit and n < rows:
        line = row(n) + "\n"
        out.append(line)
        size += len(line)
        n += 1
    return "".join(out).encode()


def enquiries_csv(rows: int = MAX_IMPORT_ROWS) -> bytes:
    """The largest enquiry CSV the route takes: MAX_IMPORT_ROWS full, valid rows (or as
    many as 20 MB holds, refused past the limit on rows)."""
    campaign = "Summer foster carer campaign - radio and buses and shelters"
    return _fill(
        ENQUIRY_HEADER,
        lambda n: (
            f"REF-{n:07d},2024-01-05,phone,{campaign} {n % 7},Josephine Bloggs-Smythe {n},"
            f"josephine.bloggs.smythe.{n}@example.org,07700 900{n % 1000:03d},ST{n % 9}"
        ),
        rows=rows,
    )


def huge_header_csv() -> bytes:
    """8 MB of one-letter unknown columns (the issue's 4 million), then rows to 20 MB."""
    header = ENQUIRY_HEADER + "," + ",".join("x" * 4_000_000)
    return _fill(header, lambda n: f"REF-{n:07d},2024-01-05,phone", rows=MAX_IMPORT_ROWS)


def ssda903_csv(rows: int = MAX_SSDA903_ROWS) -> bytes:
    """An SSDA903 Episodes file of MAX_SSDA903_ROWS rows (the most an upload may hold), or
    of 19 MB (refused past the limit on rows)."""
    header = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"  # noqa: E501
    return _fill(
        header,
        lambda n: (
            f"C{n:07d},{1 + n % 28:02d}/0{4 + n % 6}/2022,S,V2,N1,U4,PR4,,,,ST4 8,ST4 2,XXXXXXX"
        ),
        limit=LIMIT - 1_000_000,
        rows=rows,
    )


def ssda903_one_line() -> bytes:
    """One 19 MB line and no newline: refused as a line too long."""
    return b"CHILD,DECOM,RNE," + b"x," * 9_500_000


def _sheet_xml(rows: int, columns: int, with_dimension: bool) -> bytes:
    """A sheet of inline strings and numbers, `rows` by `columns`."""
    letters = [_letter(c) for c in range(1, columns + 1)]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    ]
    if with_dimension:
        parts.append(f'<dimension ref="A1:{letters[-1]}{rows}"/>')
    parts.append("<sheetData>")
    header = "".join(
        f'<c r="{letters[c]}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for c, name in enumerate(ENQUIRY_HEADER.split(",")[:columns])
    )
    parts.append(f'<row r="1">{header}</row>')
    rng = random.Random(7)
    for r in range(2, rows + 1):
        values = [
            f"REF-{r:07d}",
            "2024-01-05",
            "phone",
            f"Summer foster carer campaign {r % 7}",
            f"Josephine Bloggs-Smythe {r}",
            f"josephine.{r}@example.org",
            f"07700 900{r % 1000:03d}",
            f"ST{r % 9}",
        ]
        values += [f"v{rng.randrange(10**6)}" for _ in range(len(values), columns)]
        cells = "".join(
            f'<c r="{letters[c]}{r}" t="inlineStr"><is><t>{values[c]}</t></is></c>'
            for c in range(columns)
        )
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode()


def _letter(column: int) -> str:
    text = ""
    while column:
        column, rest = divmod(column - 1, 26)
        text = chr(65 + rest) + text
    return text


def _workbook(sheet: bytes) -> bytes:
    """An xlsx package around one sheet's XML."""
    ns = "http://schemas.openxmlformats.org/"
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<Types xmlns="{ns}package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'  # noqa: E501
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'  # noqa: E501
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'  # noqa: E501
            "</Types>"
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}package/2006/relationships">'  # noqa: E501
            f'<Relationship Id="rId1" Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'  # noqa: E501
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}spreadsheetml/2006/main" '
            f'xmlns:r="{ns}officeDocument/2006/relationships"><sheets>'
            '<sheet name="Enquiries" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}package/2006/relationships">'  # noqa: E501
            f'<Relationship Id="rId1" Type="{ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'  # noqa: E501
            "</Relationships>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet, compresslevel=9)
    return out.getvalue()


def largest_xlsx() -> bytes:
    """An enquiry workbook of as many cells as the limits allow (MAX_CELLS)."""
    columns = 8
    return _workbook(_sheet_xml(min(MAX_IMPORT_ROWS, MAX_CELLS // columns), columns, True))


def bomb_within_limits() -> bytes:
    """As many cells as allowed, the densest rows, no stated dimension (openpyxl then reads
    the whole sheet to size it): packed far tighter than a real workbook."""
    columns = MAX_COLUMNS
    return _workbook(_sheet_xml(MAX_CELLS // columns, columns, False))


def text_heavy_xlsx() -> bytes:
    """As much text as a workbook may hold (MAX_TEXT_CHARS) in cells of 30,000 characters."""
    rng = random.Random(11)
    words = [f"w{n}" for n in range(500)]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>external_ref</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>campaign</t></is></c></row>'
    ]
    size, r = 0, 2
    while size < MAX_TEXT_CHARS - 100_000:
        text = " ".join(rng.choice(words) for _ in range(7_400))[:30_000]
        size += len(text) + 20
        parts.append(
            f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>R{r}</t></is></c>'
            f'<c r="B{r}" t="inlineStr"><is><t>{text}</t></is></c></row>'
        )
        r += 1
    parts.append("</sheetData></worksheet>")
    return _workbook("".join(parts).encode())


CASES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "enquiries_csv_max_rows": (
        f"/api/v1/authorities/{STOKE}/enquiries/import",
        enquiries_csv,
        "csv",
    ),
    "enquiries_csv_20mb": (
        f"/api/v1/authorities/{STOKE}/enquiries/import",
        lambda: enquiries_csv(rows=10**9),
        "csv",
    ),
    "enquiries_huge_header": (
        f"/api/v1/authorities/{STOKE}/enquiries/import",
        huge_header_csv,
        "csv",
    ),
    "enquiries_xlsx_max_cells": (
        f"/api/v1/authorities/{STOKE}/enquiries/import",
        largest_xlsx,
        "xlsx",
    ),
    "enquiries_xlsx_dense_no_dimension": (
        f"/api/v1/authorities/{STOKE}/enquiries/import",
        bomb_within_limits,
        "xlsx",
    ),
    "enquiries_xlsx_most_text": (
        f"/api/v1/authorities/{STOKE}/enquiries/import",
        text_heavy_xlsx,
        "xlsx",
    ),
    "ssda903_csv_max_rows": (f"/api/v1/authorities/{STOKE}/children/ssda903", ssda903_csv, "903"),
    "ssda903_csv_19mb": (
        f"/api/v1/authorities/{STOKE}/children/ssda903",
        lambda: ssda903_csv(rows=10**9),
        "903",
    ),
    "ssda903_one_19mb_line": (
        f"/api/v1/authorities/{STOKE}/children/ssda903",
        ssda903_one_line,
        "903",
    ),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _setup(workdir: Path) -> tuple[dict[str, str], str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "FOSTERING_SCHEDULER_ENABLED": "false",
        "FOSTERING_PSEUDONYM_KEY": "bench-key",
        "FOSTERING_LOG_LEVEL": "WARNING",
    }
    fostering = str(BIN / "fostering")
    subprocess.run([fostering, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([fostering, "authority", "add", STOKE], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [fostering, "token", "create", "--role", "admin", "--name", "bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = next(w for w in made.stdout.split() if w.startswith("fost_"))
    return env, token


def measure(name: str, workdir: Path, env: dict[str, str], token: str) -> dict[str, Any]:
    """Serve, post the case's file (a dry run), read the server's peak memory."""
    route, make, kind = CASES[name]
    content = make()
    port = _free_port()
    log = (workdir / f"{name}.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "fostering"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        idle = peak_rss_mib(server.pid)
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        if kind == "903":
            response = httpx.post(
                f"{base}{route}?dry_run=true",
                files=[("files", ("episodes_2022-23.csv", content, "text/csv"))],
                headers=headers,
                timeout=600,
            )
        else:
            media = XLSX if kind == "xlsx" else "text/csv"
            response = httpx.post(
                f"{base}{route}?dry_run=true",
                content=content,
                headers={**headers, "Content-Type": media},
                timeout=600,
            )
        seconds = time.perf_counter() - started
        peak = peak_rss_mib(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    body = response.json() if "json" in response.headers.get("content-type", "") else {}
    return {
        "case": name,
        "upload_bytes": len(content),
        "status": response.status_code,
        "answer": body.get("rule") or body.get("rows") or "",
        "answer_bytes": len(response.content),
        "seconds": round(seconds, 1),
        "idle_rss_mib": idle,
        "peak_rss_mib": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CASES))
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="upload-memory-") as tmp:
        workdir = Path(tmp)
        env, token = _setup(workdir)
        for name in args.only or CASES:
            result = measure(name, workdir, env, token)
            results.append(result)
            print(json.dumps(result), flush=True)
    print(f"limits: line {MAX_LINE_CHARS:,} chars, {MAX_COLUMNS} columns, ", end="")
    print(f"{MAX_IMPORT_ROWS:,} rows an import, {MAX_SSDA903_ROWS:,} an SSDA903 upload, ", end="")
    print(f"{MAX_SHEET_ROWS:,} a sheet, {MAX_CELLS:,} cells a workbook, 20 MB a body")
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
