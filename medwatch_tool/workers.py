"""Worker processes for a batch: tasks out, results back in input order, no helper threads.

multiprocessing.Pool was used first. Its bookkeeping thread also wakes whenever a result
waits in the pipe, so it spun while results queued: about 30 microseconds of CPU per
report, a third of the main process's share. And a worker killed from outside (out of
memory, `kill`) left its task unanswered: the run waited forever. Here the main process
sends and receives itself, over one pipe per worker:

- A worker gets a task only while it is idle (waiting to read), so a send never waits on a
  worker that is itself waiting to send a big result: no deadlock, whatever the sizes.
- The next task is read ahead, so a worker that hands in a result gets its next task at
  once, before the main process goes on to record the results.
- At most `window` tasks are out or waiting to be handed on in order, so memory stays
  bounded however slow one task is.
- A worker that dies is noticed when its pipe closes: `WorkerLost` says how it ended.
"""
import math
import multiprocessing
import os
import signal
from multiprocessing.connection import wait
from pathlib import Path
from typing import Callable, Iterator, Optional

from .errors import MedwatchError


_END = object()


def usable_cpus(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may use, the default number of workers: os.cpu_count() counts
    the machine's, but a container or a shared server often grants fewer (CPU affinity, a
    cgroup quota such as `docker --cpus 2`); a worker per machine CPU there only waits, at
    about 30 MB each."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        cpus = os.cpu_count() or 1
    quota = None
    try:  # cgroup v2: "max 100000" or "200000 100000" (quota and period, microseconds)
        limit, period = (cgroup / "cpu.max").read_text().split()[:2]
        quota = None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        try:  # cgroup v1: -1 when unlimited
            limit = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
            period = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
            quota = limit / period if limit > 0 and period > 0 else None
        except (OSError, ValueError):
            pass
    if quota:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


class WorkerLost(MedwatchError):
    """A worker process ended while it had a task (killed, out of memory...)."""


def _serve(connection, work: Callable, initializer: Optional[Callable], parent_ends=(), parent: int = 0):
    """A worker's life: take a task, send back what `work` returns, until told to stop.
    If it cannot start, it answers its first task with why (not a traceback on stderr).

    `parent_ends`: the main process's ends of the pipes, inherited by a forked worker. They
    are closed first: holding its own pipe's other end, a worker never saw the pipe close
    when the main process was killed, and waited for a task forever (`... | cat` hung too)."""
    _die_with(parent)
    for end in parent_ends:
        end.close()
    failure = None
    if initializer:
        try:
            initializer()
        except Exception as exc:
            failure = WorkerLost(f"a worker process could not start: {type(exc).__name__}: {exc}")
    try:
        while True:
            task = connection.recv()
            if task is None:
                return
            connection.send(failure or work(task))
    except (EOFError, OSError):
        return  # the main process is gone (killed): nobody is waiting for results


def _die_with(parent: int):
    """On Linux, the kernel ends this worker when the main process `parent` dies (`kill -9`,
    the out-of-memory killer). Otherwise the worker drafted the rest of the chunk in hand,
    unjournaled, and held the output folder's lock (inherited) meanwhile: a `--resume` run
    at once was told another run was writing there."""
    if not parent or not hasattr(os, "fork"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):
        return  # not Linux: the worker ends when it next writes to the closed pipe
    if os.getppid() != parent:  # the main process died before the call
        os._exit(0)


def _how_it_ended(process) -> str:
    process.join(1)
    code = process.exitcode
    if code is None:
        return "it stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: the system may have run out of memory)" if -code == signal.SIGKILL else ""
        return f"it was ended by {name}{hint}"
    return f"it exited with status {code}"


class OrderedWorkers:
    """`jobs` worker processes running `work` on tasks; results come back in task order."""

    def __init__(self, jobs: int, work: Callable, initializer: Optional[Callable] = None):
        forked = hasattr(os, "fork")
        context = multiprocessing.get_context("fork" if forked else "spawn")
        self.processes, self.connections = [], []
        try:
            for _ in range(jobs):
                ours, theirs = context.Pipe()
                parent_ends = self.connections + [ours] if forked else []  # (a spawned worker inherits none)
                process = context.Process(target=_serve, daemon=True,
                                          args=(theirs, work, initializer, parent_ends, os.getpid() if forked else 0))
                process.start()
                theirs.close()  # so that the worker's death closes the pipe for us
                self.processes.append(process)
                self.connections.append(ours)
        except BaseException:
            self.terminate()
            raise

    def run(self, tasks: Iterator, window: int, stopping: Callable[[], bool]) -> Iterator:
        """Results of `tasks`, in order. Once `stopping()` is true no new task is sent;
        the tasks already out are finished and their results yielded."""
        idle = list(range(len(self.connections)))
        out = {}                        # connection -> (worker, task number)
        ready = {}                      # task number -> result, until its turn comes
        sent = handed = 0
        tasks = iter(tasks)
        upcoming = next(tasks, _END)
        while True:
            # first the idle workers get their next tasks, then the results are handed on
            while idle and upcoming is not _END and sent - handed < window and not stopping():
                worker = idle.pop()
                connection = self.connections[worker]
                try:
                    connection.send(upcoming)
                except OSError:  # it died while idle (or could not start)
                    raise self._lost(worker) from None
                out[connection] = (worker, sent)
                sent += 1
                upcoming = next(tasks, _END)
            while handed in ready:
                yield ready.pop(handed)
                handed += 1
            if not out:
                return  # nothing out and nothing more to send (or stopping): all handed on
            for connection in wait(list(out)):
                worker, number = out.pop(connection)
                try:
                    result = connection.recv()
                except (EOFError, OSError):
                    raise self._lost(worker) from None
                if isinstance(result, WorkerLost):
                    raise result
                ready[number] = result
                idle.append(worker)

    def _lost(self, worker: int) -> WorkerLost:
        return WorkerLost(f"a worker process ended unexpectedly: "
                          f"{_how_it_ended(self.processes[worker])}")

    def close(self):
        """Tell idle workers to stop and wait for them."""
        for connection in self.connections:
            try:
                connection.send(None)
            except OSError:
                pass
        for process in self.processes:
            process.join()
        for connection in self.connections:
            connection.close()

    def terminate(self):
        """Stop the workers now (the run failed): their pipes are closed, which ends a worker
        waiting for a task; one still working is killed (workers ignore SIGTERM: see
        drafting.warm_up), its chunk is not journaled and --resume redoes it."""
        for connection in self.connections:
            connection.close()
        for process in self.processes:
            if process.is_alive():
                process.kill()
        for process in self.processes:
            process.join()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.close()
        else:
            self.terminate()
