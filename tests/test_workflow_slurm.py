"""The micro workflow runs through a real Slurm: sbatch, slurmctld, slurmd and munge.

`profiles/slurm` is how the paper-sized experiments reach a cluster, and a dry run cannot show
that its keys, the executor plugin and our epoch groups work together. This module starts a
private one-node Slurm on localhost (with `SECRET_INSTALL_SLURM=1`, as CI's `.ci/run` sets, it
first installs Debian's `slurm-wlm` and `munge` when they are missing and we are root; without
it nothing is installed and the test skips saying so), runs the micro config through the profile with
`group_epochs=True`, checks the same outputs as the local end-to-end test, and checks that every
job the run submitted was allocated and completed by the Slurm controller.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import IO

import pytest
from snakemake_cli import HAS_SNAKEMAKE, ROOT, check_epoch_outputs, check_table1, snakemake_command

PROFILE = ROOT / "profiles" / "slurm"
# Table 1 alone covers every stage: data, pretraining, grouped epochs, summaries, the table.
TARGETS = ("results/table1.csv",)
PARTITION = "debug"
ACCOUNT = "secret_ci"
CLIENTS = ("sbatch", "srun", "squeue", "sinfo", "scancel")
DAEMONS = ("munged", "slurmctld", "slurmd")
APT_PACKAGES = ("slurm-wlm", "munge")
# What each job asks for. The rules ask for up to 8 GB (sized for real data); the micro jobs
# use under 1 GB and a CI machine may have less than 8 GB, which Slurm would refuse outright.
JOB_MEM_MB = 1000
RUN_TIMEOUT_S = 600
START_TIMEOUT_S = 60

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_SNAKEMAKE, reason="snakemake is not installed"),
    pytest.mark.skipif(
        find_spec("snakemake_executor_plugin_slurm") is None,
        reason="snakemake-executor-plugin-slurm not installed (pip install -e '.[dev]')",
    ),
]


def _which(program: str) -> str | None:
    """Find a program, including the daemons in /usr/sbin that a user's PATH may lack."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin"])
    return shutil.which(program, path=search)


def _missing_programs() -> list[str]:
    """The Slurm clients and daemons this module calls that are not installed."""
    return [name for name in (*CLIENTS, *DAEMONS) if _which(name) is None]


INSTALL_ENV = "SECRET_INSTALL_SLURM"


def _ensure_slurm_installed() -> None:
    """Skip unless Slurm is installed, or install it when ``SECRET_INSTALL_SLURM=1``.

    Installing system packages is opt-in: `make test` on a developer's machine (even as
    root) must not apt-get anything. CI starts from a fresh Debian/Ubuntu machine and sets
    the variable (`.ci/run`), so the install path is the one that runs there.
    """
    missing = _missing_programs()
    if not missing:
        return
    what = f"Slurm/munge programs missing ({', '.join(missing)})"
    if os.environ.get(INSTALL_ENV) != "1":
        pytest.skip(
            f"{what}; install slurm-wlm and munge, or set {INSTALL_ENV}=1 (as root on "
            f"Debian/Ubuntu) to let this test apt-get install {' '.join(APT_PACKAGES)}"
        )
    if os.geteuid() != 0:
        pytest.skip(f"{what} and not root, so cannot apt-get install {' '.join(APT_PACKAGES)}")
    if shutil.which("apt-get") is None:
        pytest.skip(f"{what} and apt-get not found to install {' '.join(APT_PACKAGES)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *APT_PACKAGES]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            pytest.skip(f"{what}; `{' '.join(cmd)}` timed out after 900 s")
        if done.returncode != 0:
            pytest.skip(
                f"{what}; `{' '.join(cmd)}` failed with exit code {done.returncode}: "
                f"{done.stderr.strip()[-1500:]}"
            )
    still_missing = _missing_programs()
    if still_missing:
        pytest.skip(f"apt-get installed {APT_PACKAGES} but {', '.join(still_missing)} not found")


def _free_ports(count: int) -> list[int]:
    """Ports nobody listens on, so a system Slurm on 6817/6818 does not collide with ours."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _memory_mb() -> int:
    """RealMemory for the node: slurmd drains a node that has less memory than configured."""
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(int(line.split()[1]) / 1024 * 0.95)
    raise RuntimeError("no MemTotal in /proc/meminfo")


class LocalSlurm:
    """munged, slurmctld and slurmd for one node on localhost, all state under `root`.

    Nothing is written outside `root`: the munge key, socket and seed, slurm.conf, the
    controller's state, slurmd's spool, the pid files and every log live there, and the
    daemons listen on free ports, so the cluster cannot disturb (or be disturbed by) a
    system installation. `stop()` cancels what is left and ends the three processes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.node = socket.gethostname().split(".")[0] or "localhost"
        self.conf = root / "slurm.conf"
        self.logs = root / "log"
        self.bin = root / "bin"
        self.munge_socket = root / "munge" / "munge.socket"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._outputs: list[IO[bytes]] = []
        self.env = self._client_env()

    def _client_env(self) -> dict[str, str]:
        """The environment for Slurm clients and Snakemake: our slurm.conf, no outer job.

        The srun shim comes first on PATH: snakemake-executor-plugin-slurm-jobstep (0.6.1)
        deletes every SLURM_* variable, SLURM_CONF included, before its srun inside the job.
        A real cluster's srun then finds /etc/slurm/slurm.conf; ours has no such file (and
        must not write one), so the shim puts SLURM_CONF back for that one call.
        """
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_", "SINFO_"))
        }
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        return env

    def _write_files(self) -> None:
        """Munge key, srun shim and slurm.conf; choices that matter are commented inline."""
        for sub in ("munge", "state", "spool", "log", "bin"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        srun = self.bin / "srun"
        srun.write_text(
            "#!/bin/sh\n"
            "# Restores SLURM_CONF, which the slurm-jobstep plugin drops before calling srun.\n"
            f'SLURM_CONF="{self.conf}" exec "{_which("srun")}" "$@"\n'
        )
        srun.chmod(0o755)
        ctld_port, node_port = _free_ports(2)
        settings = {
            "ClusterName": "secrettest",
            "SlurmctldHost": f"{self.node}(127.0.0.1)",
            "SlurmctldPort": ctld_port,
            "SlurmdPort": node_port,
            "SlurmUser": "root",
            "SlurmdUser": "root",
            "AuthType": "auth/munge",
            "CredType": "cred/munge",
            "AuthInfo": f"socket={self.munge_socket}",
            "StateSaveLocation": self.root / "state",
            "SlurmdSpoolDir": self.root / "spool",
            "SlurmctldPidFile": self.root / "slurmctld.pid",
            "SlurmdPidFile": self.root / "slurmd.pid",
            "SlurmctldLogFile": self.logs / "slurmctld.log",
            "SlurmdLogFile": self.logs / "slurmd.log",
            "SlurmctldDebug": "info",
            "SlurmdDebug": "info",
            # No cgroups: they need systemd/delegation, which containers and CI often lack.
            "ProctrackType": "proctrack/linuxproc",
            # Binds each job to its CPUs, as real clusters do; Snakemake inside the job then
            # sees only the allocated CPUs (`--cores all`), so its srun fits the allocation.
            "TaskPlugin": "task/affinity",
            "JobAcctGatherType": "jobacct_gather/none",
            # No slurmdbd: sacct cannot answer, so the plugin polls with squeue instead.
            "AccountingStorageType": "accounting_storage/none",
            "JobCompType": "jobcomp/none",
            "MpiDefault": "none",
            "SchedulerType": "sched/backfill",
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_CPU",
            # Trust CPUs/RealMemory below even where the hardware layout differs.
            "SlurmdParameters": "config_overrides",
            "ReturnToService": 2,
            # squeue shows finished jobs for this long: the plugin's status source and ours.
            "MinJobAge": 3600,
            "KillWait": 5,
            "MailProg": "/bin/true",
        }
        lines = [f"{key}={value}" for key, value in settings.items()]
        lines.append(
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} "
            f"RealMemory={_memory_mb()} State=UNKNOWN"
        )
        lines.append(f"PartitionName={PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP")
        self.conf.write_text("\n".join(lines) + "\n")

    def _spawn(self, name: str, *args: str) -> None:
        """Start a daemon in the foreground, so that we own its pid and can end it."""
        out = open(self.logs / f"{name}.out", "wb")  # noqa: SIM115 - closed in stop()
        self._outputs.append(out)
        self.processes[name] = subprocess.Popen(
            [_which(name) or name, *args], stdout=out, stderr=subprocess.STDOUT, env=self.env
        )

    def _wait(self, what: str, ready: Callable[[], bool]) -> None:
        """Poll `ready` until true; fail early with the logs if a daemon died meanwhile."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"{what} not ready after {START_TIMEOUT_S} s\n{self.log_tail()}")

    def _node_idle(self) -> bool:
        """Whether slurmd has registered and the node accepts jobs."""
        done = self.client("sinfo", "--noheader", "--format=%T", f"--nodes={self.node}")
        return done.returncode == 0 and done.stdout.strip() == "idle"

    def start(self) -> None:
        """Start munged, then the controller, then the node daemon; wait for an idle node."""
        self._write_files()
        munge = self.root / "munge"
        # --force: munged refuses sockets in directories others cannot enter (pytest's
        # tmp dirs are 0700); every client here runs as root, so that is harmless. In the
        # foreground munged logs to stderr, i.e. log/munged.out.
        self._spawn(
            "munged",
            "--foreground",
            "--force",
            f"--key-file={munge / 'munge.key'}",
            f"--socket={self.munge_socket}",
            f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'munged.seed'}",
        )
        self._wait("munged", self.munge_socket.exists)
        self._spawn("slurmctld", "-D", "-c", "-f", str(self.conf))
        self._spawn("slurmd", "-D", "-f", str(self.conf), "-N", self.node)
        self._wait(f"node {self.node}", self._node_idle)

    def client(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a Slurm client command against this cluster."""
        return subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=60)

    def log_tail(self, lines: int = 30) -> str:
        """The end of every daemon log, for failure messages (the tmp dir may be gone later)."""
        parts = []
        for path in sorted(self.logs.glob("*")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def stop(self) -> None:
        """Cancel leftover jobs (so no slurmstepd outlives the test), then end the daemons."""
        ctld = self.processes.get("slurmctld")
        if ctld is not None and ctld.poll() is None:
            self.client("scancel", f"--partition={PARTITION}")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                active = self.client("squeue", "--noheader", "--states=PENDING,RUNNING,COMPLETING")
                if active.returncode != 0 or not active.stdout.strip():
                    break
                time.sleep(0.5)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.processes.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        for out in self._outputs:
            out.close()


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlurm]:
    """A running private cluster for this module, stopped again whatever the tests did."""
    _ensure_slurm_installed()
    if os.geteuid() != 0:
        pytest.skip("a private Slurm needs root: slurmd launches jobs and munged runs as us")
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _snakemake(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run Snakemake; on timeout stop it with SIGTERM, which makes it scancel its jobs."""
    with subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            pytest.fail(f"Snakemake on Slurm ran over {RUN_TIMEOUT_S} s:\n{err[-4000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _rule_names(workdir: Path) -> list[str]:
    """All rule names, listed by Snakemake so that renamed or new rules are covered too."""
    listed = subprocess.run(
        snakemake_command(workdir, "--list-rules", cores=None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    return [line.strip() for line in listed.stdout.splitlines() if re.fullmatch(r"\w+", line)]


class SlurmRun:
    """What one Snakemake run through the profile left behind, for the tests to inspect."""

    def __init__(self, workdir: Path, result: subprocess.CompletedProcess[str]) -> None:
        self.workdir = workdir
        self.result = result
        self.log = result.stdout + result.stderr


@pytest.fixture(scope="module")
def slurm_run(slurm: LocalSlurm, tmp_path_factory: pytest.TempPathFactory) -> SlurmRun:
    """Table 1 of the micro config through `--profile profiles/slurm`, grouped by epoch.

    The overrides only fit the profile to a small one-node cluster: our partition and a
    dummy account (without slurmdbd, sacctmgr and sshare list no accounts, so the plugin
    passes it to sbatch unvalidated),
    1 CPU and JOB_MEM_MB per job. `cpus_per_task` is made a per-submission (local) limit of 1:
    the start group would otherwise ask for the sum of its parallel cluster jobs (3 CPUs)
    and wait forever on a 2-CPU node, while as a global limit it would let one job run at a time.
    The status options shorten the plugin's 40 s first wait and use squeue, as sacct has no
    database here.
    """
    workdir = tmp_path_factory.mktemp("micro_slurm")
    set_resources = [f"{rule}:mem_mb={JOB_MEM_MB}" for rule in _rule_names(workdir)]
    cmd = snakemake_command(
        workdir,
        "--profile",
        str(PROFILE),
        *TARGETS,
        "--default-resources",
        f"slurm_account={ACCOUNT}",
        f"slurm_partition={PARTITION}",
        "runtime=30",
        f"mem_mb={JOB_MEM_MB}",
        "cpus_per_task=1",
        "--set-resources",
        *set_resources,
        "--set-resource-scopes",
        "cpus_per_task=local",
        "--resources",
        "cpus_per_task=1",
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--seconds-between-status-checks",
        "1",
        "--slurm-keep-successful-logs",
        # Targets come before --config: everything after it is read as config.
        "--config",
        "group_epochs=True",
        cores=None,
    )
    result = _snakemake(cmd, slurm.env)
    assert result.returncode == 0, (
        f"{result.stderr[-4000:]}\n{slurm.log_tail()}\nworkdir: {workdir}"
    )
    return SlurmRun(workdir, result)


def _submitted_ids(run: SlurmRun) -> set[str]:
    """Slurm job ids the plugin reported for this run's submissions (single and group jobs)."""
    return set(re.findall(r"submitted with SLURM jobid (\d+)", run.log))


def test_table1_rows_columns_and_values(slurm_run: SlurmRun) -> None:
    """The table that jobs on the cluster produced is the complete, finite Table 1."""
    check_table1(slurm_run.workdir)


def test_epoch_outputs_kept_and_features_temporary(slurm_run: SlurmRun) -> None:
    """temp() files still go when their readers ran in other Slurm jobs (epoch 1's checkpoint
    is read by the next epoch's group job); results stay, as in the local run."""
    check_epoch_outputs(slurm_run.workdir)


def test_every_job_went_through_slurm(slurm_run: SlurmRun, slurm: LocalSlurm) -> None:
    """Each submission is a Slurm job of this run that slurmctld allocated on our node and
    saw exit 0, with its own log from slurmstepd; epochs went as one group job each."""
    submitted = _submitted_ids(slurm_run)
    # 12 submissions: 2 datasets, pretraining, the start model's shared first epoch (its
    # epoch-1 features and clusters as one group, its epoch-0 evaluation: unconnected, so
    # its own job), 2 experiments x 2 epoch groups, 2 summaries and the table.
    assert len(submitted) == 12, slurm_run.log[-3000:]

    run_id = re.search(r"SLURM run ID: (\S+)", slurm_run.log)
    assert run_id, slurm_run.log[-3000:]
    queue = slurm.client(
        "squeue", "--states=all", "--noheader", "--format=%i|%T", f"--name={run_id.group(1)}"
    )
    assert queue.returncode == 0, queue.stderr
    states = dict(line.split("|") for line in queue.stdout.split())
    assert states == dict.fromkeys(submitted, "COMPLETED")

    controller = (slurm.logs / "slurmctld.log").read_text()
    for job in submitted:
        started = (
            rf"(sched: Allocate JobId={job} NodeList={slurm.node} "
            rf"|sched/backfill: _start_job: Started JobId={job} in {PARTITION} on {slurm.node}$)"
        )
        assert re.search(started, controller, re.MULTILINE), job
        assert f"_job_complete: JobId={job} WEXITSTATUS 0" in controller

    slurm_logs = slurm_run.workdir / ".snakemake" / "slurm_logs"
    assert {p.stem for p in slurm_logs.rglob("*.log")} == submitted
    groups = sorted(p.name for p in slurm_logs.glob("group_*epoch00[12]*"))
    assert len(groups) == 4, groups
