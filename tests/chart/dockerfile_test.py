#!/usr/bin/env python3
"""Checks the Dockerfile without a container engine (none runs here): it is parsed and held
against the build tree and this machine's Debian package database.

  dockerfile_test.py --dockerfile Dockerfile --source-dir . --build-dir build \
      --binary byok-operator=build/controller/byok-operator --binary byokctl=build/cli/byokctl

Checks: multi-stage with a named build stage and a final runtime stage that takes only binaries
from it; every base image pinned (a dated tag or a digest); the final stage runs as a numeric
non-root user, the same uid as the chart's runAsUser; no secrets (no ARG/ENV named like one, no
key files copied, a .dockerignore that keeps key material and .git out of `COPY . .`); the build
stage installs scripts/deps/apt-packages.txt and builds exactly the CMake targets whose outputs
the runtime stage copies, at the paths CMake puts them; the entrypoint is the operator; and the
runtime packages cover every shared library `ldd` finds in the built binaries (mapped to Debian
packages with `dpkg -S`), counting what any Debian base has (the Essential packages) and what
apt installs with the runtime stage's packages (their dependencies). Prints PASS/FAIL per check and `N passed, M failed`; exits 1 on a failure, 77 (a
skip) when this machine's Debian release is not the image's, so its dpkg cannot vouch for the
image's package names.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys

# Runtime packages that provide no linked library, each with the reason it is in the image.
NOT_LINKED_BUT_NEEDED = {
    "ca-certificates": "TLS trust roots for the KMS endpoints",
    "softhsm2": "the optional PKCS#11 module (the chart's hsm.modulePath)",
}
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|KEY|PIN\b|CREDENTIAL", re.I)
KEY_FILE = re.compile(r"(\.pem|\.key|\.p12|\.pfx|\.jks|id_rsa|id_ed25519|\.env|kubeconfig|token)$", re.I)
# What .dockerignore must exclude before the build stage may `COPY . .`.
MUST_IGNORE = [".git", "**/*.key", "**/*.pem"]


class Instruction:
    def __init__(self, keyword, args, line):
        self.keyword, self.args, self.line = keyword.upper(), args, line


class Stage:
    def __init__(self, image, name, line):
        self.image, self.name, self.line = image, name, line
        self.instructions = []

    def all(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]


def parse(path):
    """Instructions by stage; continuation lines joined, comments dropped."""
    stages, logical, start = [], "", 0
    with open(path) as f:
        lines = f.read().splitlines()
    joined = []
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if logical and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not logical:
            start = number
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        joined.append((start, logical + stripped))
        logical = ""
    for number, text in joined:
        keyword, _, args = text.partition(" ")
        ins = Instruction(keyword, args.strip(), number)
        if ins.keyword == "FROM":
            words = ins.args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name, number))
        elif not stages:
            if ins.keyword != "ARG":
                raise SystemExit("%s:%d: %s before the first FROM" % (path, number, ins.keyword))
        else:
            stages[-1].instructions.append(ins)
    return stages


def apt_installs(stage):
    """Package names of every `apt-get install` in the stage's RUN instructions."""
    packages = []
    for run in stage.all("RUN"):
        for segment in re.split(r"&&|;|\|\|", run.args):
            words = segment.split()
            if "apt-get" in words and "install" in words:
                after = words[words.index("install") + 1:]
                packages += [w for w in after if not w.startswith("-") and re.match(r"^[a-z0-9][a-z0-9.+-]+$", w)]
    return packages


def copy_parts(ins):
    words = shlex.split(ins.args)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    source_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
    return source_stage, paths[:-1], paths[-1]


def sh(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def dpkg_owner(path):
    """The package that installed the file, trying the usrmerge aliases of its path."""
    real = os.path.realpath(path)
    candidates = [path, real]
    for p in (path, real):
        if p.startswith("/usr/"):
            candidates.append(p[4:])
        else:
            candidates.append("/usr" + p)
    for p in candidates:
        r = sh("dpkg", "-S", p)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    return None


def installed_packages():
    """This machine's installed packages and their dpkg status fields."""
    installed = {}
    with open("/var/lib/dpkg/status") as f:
        for para in f.read().split("\n\n"):
            fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", para, re.M))
            if "install ok installed" in fields.get("Status", ""):
                installed[fields["Package"]] = fields
    return installed


def with_dependencies(roots, installed):
    """`roots` and everything apt installs with them (Depends and Pre-Depends, the first installed
    alternative), as this machine's dpkg database records them."""
    todo, seen = list(roots), set()
    while todo:
        p = todo.pop()
        if p in seen or p not in installed:
            continue
        seen.add(p)
        for field in ("Depends", "Pre-Depends"):
            for alternatives in installed[p].get(field, "").split(","):
                names = [re.split(r"[\s:(]", a.strip())[0] for a in alternatives.split("|") if a.strip()]
                present = [n for n in names if n in installed]
                if present:
                    todo.append(present[0])
    return seen


def base_packages(installed):
    """What every Debian base image has: the Essential packages and their dependencies."""
    return with_dependencies([p for p, f in installed.items() if f.get("Essential") == "yes"], installed)


def os_codename():
    try:
        with open("/etc/os-release") as f:
            return dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', f.read(), re.M)).get("VERSION_CODENAME", "")
    except OSError:
        return ""


class Checks:
    def __init__(self):
        self.passed = self.failed = 0
        self.skipped = False

    def check(self, name, problems):
        if problems:
            self.failed += 1
            print("FAIL %s:\n  %s" % (name, "\n  ".join(problems)))
        else:
            self.passed += 1
            print("PASS %s" % name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dockerfile", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--binary", action="append", default=[], help="target=path of its output")
    a = ap.parse_args()
    binaries = dict(b.split("=", 1) for b in a.binary)
    stages = parse(a.dockerfile)
    c = Checks()

    problems = []
    if len(stages) < 2:
        problems.append("%d stage(s): a build stage and a runtime stage are expected" % len(stages))
    names = [s.name for s in stages]
    if any(n is None for n in names):
        problems.append("every stage needs a name (FROM image AS name)")
    final = stages[-1]
    build = next((s for s in stages if s.name == "build"), None)
    if build is None or build is final:
        problems.append("no stage named build before the final stage")
    for ins in final.all("COPY") + final.all("ADD"):
        source_stage, _, _ = copy_parts(ins)
        if ins.keyword == "ADD" or source_stage is None or source_stage not in names[:-1]:
            problems.append("line %d: the final stage takes files only from an earlier stage "
                            "(COPY --from=<stage>)" % ins.line)
    c.check("stages: a named build stage, a final runtime stage fed only from it", problems)

    problems = []
    for s in stages:
        image = s.image
        if "$" in image:
            problems.append("line %d: base %s comes from an ARG: pin it in the file" % (s.line, image))
        elif "@sha256:" in image:
            if not re.search(r"@sha256:[0-9a-f]{64}$", image):
                problems.append("line %d: malformed digest in %s" % (s.line, image))
        elif ":" not in image.split("/")[-1]:
            problems.append("line %d: base %s has no tag" % (s.line, image))
        elif not re.search(r":[^/]*\d{8}", image):
            problems.append("line %d: base %s is not pinned (a dated tag such as "
                            "bookworm-20241111-slim, or a digest)" % (s.line, image))
    c.check("base images pinned", problems)

    problems = []
    users = final.all("USER")
    uid = None
    if not users:
        problems.append("the final stage sets no USER: it would run as root")
    else:
        user = users[-1].args.split(":")
        if not user[0].isdigit():
            problems.append("USER %s: use a numeric uid so runAsNonRoot can verify it" % users[-1].args)
        elif int(user[0]) == 0 or (len(user) > 1 and user[1] == "0"):
            problems.append("USER %s is root" % users[-1].args)
        else:
            uid = user[0]
        after = [i for i in final.instructions if i.line > users[-1].line and i.keyword == "RUN"]
        if after:
            problems.append("line %d: RUN after USER in the final stage" % after[0].line)
    created = re.search(r"useradd\b.*--uid\s+(\d+)", " ".join(r.args for r in final.all("RUN")))
    if uid and (not created or created.group(1) != uid):
        problems.append("USER %s is not the uid the final stage creates with useradd --uid" % uid)
    with open(os.path.join(a.source_dir, "charts", "byok-operator", "values.yaml")) as f:
        chart_uid = re.search(r"^\s+runAsUser:\s*(\d+)", f.read(), re.M)
    if uid and (not chart_uid or chart_uid.group(1) != uid):
        problems.append("the chart's podSecurityContext.runAsUser is not the image's uid %s" % uid)
    c.check("the final stage runs as a numeric non-root user, the chart's runAsUser", problems)

    problems = []
    for s in stages:
        for ins in s.all("ARG") + s.all("ENV"):
            for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", ins.args):
                if SECRET_NAME.search(name):
                    problems.append("line %d: %s %s looks like a secret" % (ins.line, ins.keyword, name))
        for ins in s.all("COPY") + s.all("ADD"):
            _, sources, _ = copy_parts(ins)
            for src in sources:
                if KEY_FILE.search(src):
                    problems.append("line %d: %s copies %s" % (ins.line, ins.keyword, src))
                if re.match(r"^[a-z]+://", src):
                    problems.append("line %d: %s fetches %s" % (ins.line, ins.keyword, src))
                if src in (".", "./"):
                    ignore_path = os.path.join(a.source_dir, ".dockerignore")
                    ignored = open(ignore_path).read().split() if os.path.exists(ignore_path) else []
                    missing = [p for p in MUST_IGNORE if p not in ignored]
                    if missing:
                        problems.append("line %d: COPY . with a .dockerignore that lacks %s" % (ins.line, missing))
    c.check("no secrets: no ARG/ENV named like one, no key files, .dockerignore guards COPY .", problems)

    problems = []
    if build:
        build_runs = " ".join(r.args for r in build.all("RUN"))
        copied = [copy_parts(i)[1] for i in build.all("COPY")]
        if not any("scripts/deps/apt-packages.txt" in src for srcs in copied for src in srcs) \
                or "apt-packages.txt" not in build_runs:
            problems.append("the build stage does not install scripts/deps/apt-packages.txt")
        build_dir = re.search(r"cmake\s.*-B\s*(\S+)", build_runs)
        targets = re.search(r"--target\s+((?:[\w.-]+\s*)+?)(?:\s-|$)", build_runs)
        built = set(targets.group(1).split()) if targets else set()
        if built != set(binaries):
            problems.append("the build stage builds targets %s, the image installs %s"
                            % (sorted(built), sorted(binaries)))
        installed = {}
        for ins in final.all("COPY"):
            source_stage, sources, dest = copy_parts(ins)
            if source_stage == "build":
                for src in sources:
                    installed[src] = dest
        for target, output in binaries.items():
            rel = os.path.relpath(output, a.build_dir)
            expected_src = (build_dir.group(1) if build_dir else "/build").rstrip("/") + "/" + rel
            if installed.get(expected_src) != "/usr/local/bin/" + target:
                problems.append("target %s is built at %s, which no COPY --from=build installs as "
                                "/usr/local/bin/%s" % (target, expected_src, target))
    entry = final.all("ENTRYPOINT")
    if not entry or not entry[-1].args.startswith("["):
        problems.append("no exec-form ENTRYPOINT in the final stage")
    elif shlex.split(entry[-1].args.strip("[]").replace(",", " "))[0] != "/usr/local/bin/byok-operator":
        problems.append("the entrypoint is not /usr/local/bin/byok-operator")
    c.check("builds the declared packages into the CMake targets it installs; operator entrypoint", problems)

    codename = os_codename()
    base_codename = re.match(r"[^:]+:([a-z]+)", final.image)
    runtime = apt_installs(final)
    if not codename or not base_codename or base_codename.group(1) != codename:
        print("SKIP runtime packages vs ldd: the image is Debian %s, this machine %s"
              % (base_codename.group(1) if base_codename else "?", codename or "?"))
        c.skipped = True
    else:
        problems = []
        installed = installed_packages()
        # What the image has: the base, the runtime stage's packages and what apt installs with them.
        present = with_dependencies(base_packages(installed) | set(runtime), installed)
        needed = {}  # package -> libraries
        for target, output in binaries.items():
            if not os.path.exists(output):
                problems.append("%s is not built at %s" % (target, output))
                continue
            for m in re.finditer(r"=>\s*(\S+)|^\s*(/\S+)\s", sh("ldd", output).stdout, re.M):
                lib = m.group(1) or m.group(2)
                if lib == "not":
                    problems.append("%s links a library ldd cannot find" % target)
                    continue
                owner = dpkg_owner(lib)
                if owner is None:
                    problems.append("%s: %s belongs to no Debian package" % (target, lib))
                else:
                    needed.setdefault(owner, set()).add(os.path.basename(lib))
        for pkg, libs in sorted(needed.items()):
            if pkg not in present and pkg not in runtime:
                problems.append("%s (for %s) is not installed in the runtime stage"
                                % (pkg, ", ".join(sorted(libs))))
        for pkg in runtime:
            if pkg.endswith("-dev"):
                problems.append("%s: a development package in the runtime stage" % pkg)
            elif pkg not in needed and pkg not in NOT_LINKED_BUT_NEEDED:
                problems.append("%s is installed in the runtime stage but provides none of the "
                                "binaries' libraries (drop it, or say why in NOT_LINKED_BUT_NEEDED)" % pkg)
            if sh("dpkg-query", "-W", pkg).returncode != 0 and sh("apt-cache", "show", pkg).returncode != 0:
                problems.append("%s is not a Debian %s package" % (pkg, codename))
        print("  linked: " + ", ".join("%s (%s)" % (p, ", ".join(sorted(l))) for p, l in sorted(needed.items())))
        c.check("runtime packages cover every library the binaries link", problems)

    print("%d passed, %d failed" % (c.passed, c.failed))
    if c.failed:
        return 1
    return 77 if c.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
