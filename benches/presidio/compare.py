"""Presidio's pattern recognizers on writ's generated corpus, next to writ's figures.

Usage: compare.py CORPUS_DIR [--kib K]

CORPUS_DIR holds <corpus>.txt and writ.tsv, written by
`cargo run --release -p writ-benches --example throughput -- --write-corpus DIR`.
Presidio analyzes the first K KiB of each corpus in ~4 KiB pieces cut at line ends (as writ
does), with the recognizers for the types both have: e-mail, phone, credit card, IBAN, US SSN,
IP address. Throughput is the best of a few passes; ratios are writ's MiB/s (same types, the
full corpus) over Presidio's.
"""

import argparse
import csv
import os
import socket
import sys
import time
import warnings

# No network: every connection attempt is refused and counted.
ATTEMPTS = []


def _refuse(*args, **kwargs):
    ATTEMPTS.append(repr(args[:2]))
    raise OSError("network disabled by the writ Presidio bench")


socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse

import tldextract  # noqa: E402

# The e-mail recognizer calls tldextract.extract; give it an extractor that never fetches the
# public suffix list and does not cache to disk (the bundled snapshot is used).
_OFFLINE = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
tldextract.extract = _OFFLINE

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import NoOpNlpEngine  # noqa: E402
from presidio_analyzer.predefined_recognizers import (  # noqa: E402
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

WITH_PHONE = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"]
WITHOUT_PHONE = [e for e in WITH_PHONE if e != "PHONE_NUMBER"]
PIECE = 4096


def chunks(text, size):
    out = []
    i = 0
    while i < len(text):
        cut = min(i + size, len(text))
        nl = text.find("\n", cut)
        cut = len(text) if nl < 0 else nl + 1
        out.append(text[i:cut])
        i = cut
    return out


def engine():
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        EmailRecognizer(),
        PhoneRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        IpRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


def measure(analyzer, pieces, entities, nbytes):
    best = None
    found = 0
    started = time.perf_counter()
    passes = 0
    while passes < 2 or (time.perf_counter() - started < 2.0 and passes < 5):
        t = time.perf_counter()
        found = sum(len(analyzer.analyze(text=p, language="en", entities=entities)) for p in pieces)
        elapsed = time.perf_counter() - t
        best = elapsed if best is None else min(best, elapsed)
        passes += 1
    return nbytes / (1024 * 1024) / best, found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--kib", type=int, default=256)
    args = parser.parse_args()
    with open(os.path.join(args.corpus, "writ.tsv"), newline="") as f:
        writ = {row["corpus"]: row for row in csv.DictReader(f, delimiter="\t")}
    analyzer = engine()
    import presidio_analyzer

    version = getattr(presidio_analyzer, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("presidio-analyzer")
    print(f"presidio-analyzer {version}, no-op NLP engine, first {args.kib} KiB of each corpus")
    print(
        f"{'corpus':<14} {'presidio+ph':>11} {'writ+ph':>9} {'ratio':>8}   "
        f"{'presidio':>9} {'writ':>9} {'ratio':>8}   {'found p/w':>13}"
    )
    for name, row in writ.items():
        with open(os.path.join(args.corpus, f"{name}.txt"), encoding="utf-8") as f:
            text = f.read(args.kib * 1024)
        pieces = chunks(text, PIECE)
        nbytes = sum(len(p.encode("utf-8")) for p in pieces)
        p_phone, found = measure(analyzer, pieces, WITH_PHONE, nbytes)
        p_none, _ = measure(analyzer, pieces, WITHOUT_PHONE, nbytes)
        w_phone = float(row["writ_presidio"])
        w_none = float(row["writ_presidio_no_phone"])
        share = nbytes / int(row["bytes"])
        writ_found = round(int(row["findings"]) * share)
        print(
            f"{name:<14} {p_phone:>11.3f} {w_phone:>9.0f} {w_phone / p_phone:>7.0f}x   "
            f"{p_none:>9.3f} {w_none:>9.0f} {w_none / p_none:>7.0f}x   "
            f"{found:>6}/~{writ_found:<6}",
            flush=True,
        )
    print("MiB/s; +ph: with PHONE_NUMBER / phone; found: Presidio results (with phone) / writ's "
          "findings (all types) scaled to the prefix")
    if ATTEMPTS:
        print(f"error: {len(ATTEMPTS)} network connections were attempted (and refused)",
              file=sys.stderr)
        return 1
    print("network: no connection attempted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
