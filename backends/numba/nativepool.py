"""A native kernel pool: worker threads that wait, claim and run kernel
blocks without the GIL (x86-64 Linux; ``threads.py`` falls back to a
Python pool elsewhere).

Why: handing a chunk to a Python worker (condition variable, GIL hand-over)
cost ~130 us per launch on the 2-core development VM, more than many
kernels take; a futex wake-up costs ~10 us there.  The pool is a few
functions of hand-written LLVM IR (``_POOL_IR``), compiled by llvmlite when
first needed (no numba), and one ``int64`` state array shared by all
threads.

Protocol (all shared words are accessed atomically):

* a *launch* publishes the kernel (program entry address, kernel id, table
  address, extent) and then a *cursor* ``launch id << 32 | blocks << 16 |
  next block``; the range ``0:extent`` is cut into ``blocks`` equal blocks;
* every thread -- the caller included -- claims blocks by compare-and-swap
  on the cursor and runs ``entry(kid, lo, hi, table)`` for each, then adds
  one to ``done``; the caller returns when ``done == blocks``.  The caller
  starts at once, so a worker that wakes late (or never gets a core on a
  loaded machine) only means fewer blocks for it, never a wait for it;
* idle workers spin (``pause``) for ``SPIN_CYCLES`` time-stamp-counter
  cycles (~30-50 us), then sleep on a futex that each launch bumps.  Before
  a BLAS call the runtime *parks* the pool: spinning workers go to sleep at
  once, so they never compete with BLAS threads for cores (the failure of
  spinning OpenMP pools next to BLAS that this backend avoids).

Each worker is pinned to a core of its own (worker n to the n+1-th core the
process may use) when there are at least as many cores as threads.
Unpinned, a worker woken from its futex was often placed on the caller's
core by the scheduler and stayed there for many calls: the two halves of a
launch then shared one core and W1 ran at serial speed in about half of the
runs on the 2-core development VM.

One launch at a time: ``launch`` takes a lock without waiting; a caller that
finds the pool busy (another Python thread is running a program) runs its
kernel alone.
"""

from __future__ import annotations

import ctypes
import os
import platform
import sys
import threading

import numpy as np

SPIN_CYCLES = 100_000
MAX_BLOCKS = 0xFFFF

# state words (int64 indices); the futex word is the low half of SEQ
SEQ, CURSOR, DONE, FN, KID, TABLE, EXTENT, SLEEPERS, STOP, BUDGET, PARK = \
    0, 8, 16, 24, 25, 26, 27, 32, 40, 48, 49
STATE_WORDS = 64

_POOL_IR = r"""
declare i64 @syscall(i64, ...)
declare i32 @sched_yield()
declare void @llvm.x86.sse2.pause()
declare i64 @llvm.readcyclecounter()

define internal i64* @word(i64* %s, i64 %i) alwaysinline {
  %p = getelementptr i64, i64* %s, i64 %i
  ret i64* %p
}

define internal void @run_blocks(i64* %s) {
entry:
  %cur.p = call i64* @word(i64* %s, i64 8)
  %fn.p = call i64* @word(i64* %s, i64 24)
  %kid.p = call i64* @word(i64* %s, i64 25)
  %tab.p = call i64* @word(i64* %s, i64 26)
  %ext.p = call i64* @word(i64* %s, i64 27)
  %done.p = call i64* @word(i64* %s, i64 16)
  br label %claim
claim:
  %c = load atomic i64, i64* %cur.p seq_cst, align 8
  %idx = and i64 %c, 65535
  %nb.s = lshr i64 %c, 16
  %nb = and i64 %nb.s, 65535
  %more = icmp ult i64 %idx, %nb
  br i1 %more, label %try, label %out
try:
  %fn = load atomic i64, i64* %fn.p monotonic, align 8
  %kid = load atomic i64, i64* %kid.p monotonic, align 8
  %tab = load atomic i64, i64* %tab.p monotonic, align 8
  %ext = load atomic i64, i64* %ext.p monotonic, align 8
  %next = add i64 %c, 1
  %r = cmpxchg i64* %cur.p, i64 %c, i64 %next seq_cst seq_cst
  %ok = extractvalue { i64, i1 } %r, 1
  br i1 %ok, label %run, label %claim
run:
  %a = mul i64 %ext, %idx
  %lo = udiv i64 %a, %nb
  %idx1 = add i64 %idx, 1
  %b = mul i64 %ext, %idx1
  %hi = udiv i64 %b, %nb
  %f = inttoptr i64 %fn to void (i64, i64, i64, i64)*
  call void %f(i64 %kid, i64 %lo, i64 %hi, i64 %tab)
  %d = atomicrmw add i64* %done.p, i64 1 seq_cst
  br label %claim
out:
  ret void
}

define void @graphc_pool_worker(i64* %s) {
entry:
  %seq64.p = call i64* @word(i64* %s, i64 0)
  %seq.p = bitcast i64* %seq64.p to i32*
  %cur.p = call i64* @word(i64* %s, i64 8)
  %sleep.p = call i64* @word(i64* %s, i64 32)
  %stop.p = call i64* @word(i64* %s, i64 40)
  %budget.p = call i64* @word(i64* %s, i64 48)
  %park.p = call i64* @word(i64* %s, i64 49)
  br label %start
start:
  %t0 = call i64 @llvm.readcyclecounter()
  br label %spin
spin:
  %stop = load atomic i64, i64* %stop.p seq_cst, align 8
  %stopping = icmp ne i64 %stop, 0
  br i1 %stopping, label %exit, label %look
look:
  %c = load atomic i64, i64* %cur.p seq_cst, align 8
  %idx = and i64 %c, 65535
  %nb.s = lshr i64 %c, 16
  %nb = and i64 %nb.s, 65535
  %work = icmp ult i64 %idx, %nb
  br i1 %work, label %do_work, label %idle
idle:
  %park = load atomic i64, i64* %park.p seq_cst, align 8
  %parked = icmp ne i64 %park, 0
  %t = call i64 @llvm.readcyclecounter()
  %el = sub i64 %t, %t0
  %budget = load atomic i64, i64* %budget.p monotonic, align 8
  %long = icmp ugt i64 %el, %budget
  %rest = or i1 %parked, %long
  br i1 %rest, label %sleep, label %pause
pause:
  call void @llvm.x86.sse2.pause()
  br label %spin
sleep:
  %seq = load atomic i32, i32* %seq.p seq_cst, align 8
  %n1 = atomicrmw add i64* %sleep.p, i64 1 seq_cst
  %c2 = load atomic i64, i64* %cur.p seq_cst, align 8
  %idx2 = and i64 %c2, 65535
  %nb2.s = lshr i64 %c2, 16
  %nb2 = and i64 %nb2.s, 65535
  %work2 = icmp ult i64 %idx2, %nb2
  %stop2 = load atomic i64, i64* %stop.p seq_cst, align 8
  %stopping2 = icmp ne i64 %stop2, 0
  %skip = or i1 %work2, %stopping2
  br i1 %skip, label %awake, label %wait
wait:
  %seq64 = zext i32 %seq to i64
  %w = call i64 (i64, ...) @syscall(i64 202, i32* %seq.p, i64 128, i64 %seq64, i8* null)
  br label %awake
awake:
  %n2 = atomicrmw sub i64* %sleep.p, i64 1 seq_cst
  br label %start
do_work:
  call void @run_blocks(i64* %s)
  br label %start
exit:
  ret void
}

define void @graphc_pool_launch(i64* %s, i64 %fn, i64 %kid, i64 %extent, i64 %table,
                                i64 %blocks) {
entry:
  %seq64.p = call i64* @word(i64* %s, i64 0)
  %seq.p = bitcast i64* %seq64.p to i32*
  %cur.p = call i64* @word(i64* %s, i64 8)
  %done.p = call i64* @word(i64* %s, i64 16)
  %fn.p = call i64* @word(i64* %s, i64 24)
  %kid.p = call i64* @word(i64* %s, i64 25)
  %tab.p = call i64* @word(i64* %s, i64 26)
  %ext.p = call i64* @word(i64* %s, i64 27)
  %sleep.p = call i64* @word(i64* %s, i64 32)
  %park.p = call i64* @word(i64* %s, i64 49)
  store atomic i64 %fn, i64* %fn.p monotonic, align 8
  store atomic i64 %kid, i64* %kid.p monotonic, align 8
  store atomic i64 %table, i64* %tab.p monotonic, align 8
  store atomic i64 %extent, i64* %ext.p monotonic, align 8
  store atomic i64 0, i64* %done.p seq_cst, align 8
  store atomic i64 0, i64* %park.p seq_cst, align 8
  %old = load atomic i64, i64* %cur.p seq_cst, align 8
  %id = lshr i64 %old, 32
  %id1 = add i64 %id, 1
  %hi = shl i64 %id1, 32
  %nb = shl i64 %blocks, 16
  %new = or i64 %hi, %nb
  store atomic i64 %new, i64* %cur.p seq_cst, align 8
  %s1 = atomicrmw add i32* %seq.p, i32 1 seq_cst
  %sl = load atomic i64, i64* %sleep.p seq_cst, align 8
  %any = icmp sgt i64 %sl, 0
  br i1 %any, label %wake, label %work
wake:
  %w = call i64 (i64, ...) @syscall(i64 202, i32* %seq.p, i64 129, i64 2147483647)
  br label %work
work:
  call void @run_blocks(i64* %s)
  br label %wait
wait:
  %n = phi i64 [ 0, %work ], [ %n1, %spin ], [ %n1, %do_yield ]
  %d = load atomic i64, i64* %done.p seq_cst, align 8
  %all = icmp uge i64 %d, %blocks
  br i1 %all, label %out, label %spin
spin:
  call void @llvm.x86.sse2.pause()
  %n1 = add i64 %n, 1
  %m = and i64 %n1, 4095
  %yield = icmp eq i64 %m, 0
  br i1 %yield, label %do_yield, label %wait
do_yield:
  %y = call i32 @sched_yield()
  br label %wait
out:
  ret void
}
"""

_WORKER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_LAUNCH = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                           ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
_FUNCTIONS: dict | None = None
_COMPILE_LOCK = threading.Lock()


def supported() -> bool:
    """The pool's IR uses x86-64 Linux system calls and instructions."""
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")


def _functions() -> dict:
    global _FUNCTIONS
    with _COMPILE_LOCK:
        if _FUNCTIONS is None:
            from .loader import load_ir
            addresses = load_ir(_POOL_IR, ("graphc_pool_worker", "graphc_pool_launch"))
            _FUNCTIONS = {"worker": _WORKER(addresses["graphc_pool_worker"]),
                          "launch": _LAUNCH(addresses["graphc_pool_launch"])}
        return _FUNCTIONS


class NativePool:
    """``threads - 1`` native workers plus the calling thread."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self.state = np.zeros(STATE_WORDS, dtype=np.int64)
        self.state[BUDGET] = SPIN_CYCLES
        self._address = self.state.ctypes.data
        self._lock = threading.Lock()
        self._started = False
        self._functions = None

    def _start(self) -> None:
        self._functions = _functions()
        worker = self._functions["worker"]
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        pin = len(cores) >= self.threads

        def serve(n: int) -> None:
            if pin:    # worker n keeps core n+1; the caller is left core 0 of its set
                try:
                    os.sched_setaffinity(0, {cores[(n + 1) % len(cores)]})
                except OSError:    # pinning is an optimization: an unpinned worker still works
                    pass
            worker(self._address)

        for n in range(self.threads - 1):
            threading.Thread(target=serve, args=(n,), daemon=True,
                             name=f"graphc-native-kernel-{n}").start()
        self._started = True

    def launch(self, entry_address: int, direct, kid: int, extent: int, table: int,
               work: int) -> None:
        """Run kernel ``kid`` over ``0:extent`` with every thread of the pool;
        ``direct`` runs it on the caller alone when the pool is busy."""
        if not self._lock.acquire(blocking=False):
            direct(kid, 0, extent, table)
            return
        try:
            if not self._started:
                self._start()
            blocks = max(1, min(extent, MAX_BLOCKS, 16 * self.threads, work // 8192))
            self._functions["launch"](self._address, entry_address, kid, extent, table, blocks)
        finally:
            self._lock.release()

    def park(self) -> None:
        """Let spinning workers sleep now (a BLAS call or the caller's code is next)."""
        self.state[PARK] = 1
