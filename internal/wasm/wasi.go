package wasm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"strconv"
)

// WASIModule is the import module name of the WASI shim.
const WASIModule = "wasi_snapshot_preview1"

// WASI errno values the shim returns.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoInval   = 28
	errnoNosys   = 52
)

// wasiFuncs is the deterministic WASI preview1 shim: every function of
// the snapshot is present with its exact signature (so any wasip1 program
// links), the few a Go program needs behave deterministically, the rest
// return ENOSYS. Each charges GasHostCall plus the bytes it moves.
var wasiFuncs = []hostFn{
	{"args_get", sig(i32, i32), sig(i32), wasiOK},
	{"args_sizes_get", sig(i32, i32), sig(i32), wasiZeroPair},
	{"environ_get", sig(i32, i32), sig(i32), wasiOK},
	{"environ_sizes_get", sig(i32, i32), sig(i32), wasiZeroPair},
	{"clock_res_get", sig(i32, i32), sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 8)
		f.write(u32(s[1]), binary.LittleEndian.AppendUint64(nil, 1))
		s[0] = errnoSuccess
	}},
	{"clock_time_get", sig(i32, i64, i32), sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 8)
		t := f.now()
		if u32(s[0]) != 0 { // every clock but realtime is the monotonic one
			t = monoBase + f.clock
		}
		f.write(u32(s[2]), binary.LittleEndian.AppendUint64(nil, uint64(t)))
		s[0] = errnoSuccess
	}},
	{"fd_advise", sig(i32, i64, i64, i32), sig(i32), wasiNosys},
	{"fd_allocate", sig(i32, i64, i64), sig(i32), wasiNosys},
	{"fd_close", sig(i32), sig(i32), wasiNosys},
	{"fd_datasync", sig(i32), sig(i32), wasiNosys},
	{"fd_fdstat_get", sig(i32, i32), sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 24)
		if u32(s[0]) > 2 {
			s[0] = errnoBadf
			return
		}
		var st [24]byte
		st[0] = 2                                        // character device
		binary.LittleEndian.PutUint64(st[8:], 1<<1|1<<6) // fd_read | fd_write rights
		f.write(u32(s[1]), st[:])
		s[0] = errnoSuccess
	}},
	{"fd_fdstat_set_flags", sig(i32, i32), sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		if u32(s[0]) > 2 {
			s[0] = errnoBadf
			return
		}
		s[0] = errnoSuccess
	}},
	{"fd_fdstat_set_rights", sig(i32, i64, i64), sig(i32), wasiNosys},
	{"fd_filestat_get", sig(i32, i32), sig(i32), wasiNosys},
	{"fd_filestat_set_size", sig(i32, i64), sig(i32), wasiNosys},
	{"fd_filestat_set_times", sig(i32, i64, i64, i32), sig(i32), wasiNosys},
	{"fd_pread", sig(i32, i32, i32, i64, i32), sig(i32), wasiNosys},
	{"fd_prestat_get", sig(i32, i32), sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		s[0] = errnoBadf // no preopened directories
	}},
	{"fd_prestat_dir_name", sig(i32, i32, i32), sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		s[0] = errnoBadf
	}},
	{"fd_pwrite", sig(i32, i32, i32, i64, i32), sig(i32), wasiNosys},
	{"fd_read", sig(i32, i32, i32, i32), sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 4)
		if u32(s[0]) != 0 {
			s[0] = errnoBadf
			return
		}
		f.write(u32(s[3]), make([]byte, 4)) // stdin is empty: 0 bytes read
		s[0] = errnoSuccess
	}},
	{"fd_readdir", sig(i32, i32, i32, i64, i32), sig(i32), wasiNosys},
	{"fd_renumber", sig(i32, i32), sig(i32), wasiNosys},
	{"fd_seek", sig(i32, i64, i32, i32), sig(i32), wasiNosys},
	{"fd_sync", sig(i32), sig(i32), wasiNosys},
	{"fd_tell", sig(i32, i32), sig(i32), wasiNosys},
	{"fd_write", sig(i32, i32, i32, i32), sig(i32), wasiFdWrite},
	{"path_create_directory", sig(i32, i32, i32), sig(i32), wasiNosys},
	{"path_filestat_get", sig(i32, i32, i32, i32, i32), sig(i32), wasiNosys},
	{"path_filestat_set_times", sig(i32, i32, i32, i32, i64, i64, i32), sig(i32), wasiNosys},
	{"path_link", sig(i32, i32, i32, i32, i32, i32, i32), sig(i32), wasiNosys},
	{"path_open", sig(i32, i32, i32, i32, i32, i64, i64, i32, i32), sig(i32), wasiNosys},
	{"path_readlink", sig(i32, i32, i32, i32, i32, i32), sig(i32), wasiNosys},
	{"path_remove_directory", sig(i32, i32, i32), sig(i32), wasiNosys},
	{"path_rename", sig(i32, i32, i32, i32, i32, i32), sig(i32), wasiNosys},
	{"path_symlink", sig(i32, i32, i32, i32, i32), sig(i32), wasiNosys},
	{"path_unlink_file", sig(i32, i32, i32), sig(i32), wasiNosys},
	{"poll_oneoff", sig(i32, i32, i32, i32), sig(i32), wasiPollOneoff},
	{"proc_exit", sig(i32), nil, func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		code := u32(s[0])
		if code == 0 {
			f.fail(StatusOK, "")
		}
		f.fail(StatusTrap, "exit("+strconv.FormatUint(uint64(code), 10)+")")
	}},
	{"proc_raise", sig(i32), sig(i32), wasiNosys},
	{"sched_yield", nil, sig(i32), func(f *frame, s []uint64) {
		f.enter(GasHostCall, 0)
		s[0] = errnoSuccess
	}},
	{"random_get", sig(i32, i32), sig(i32), func(f *frame, s []uint64) {
		ptr, n := u32(s[0]), u32(s[1])
		f.enter(GasHostCall, uint64(n))
		f.check(ptr, n)
		f.write(ptr, f.rand.next(int(n)))
		s[0] = errnoSuccess
	}},
	{"sock_accept", sig(i32, i32, i32), sig(i32), wasiNosys},
	{"sock_recv", sig(i32, i32, i32, i32, i32, i32), sig(i32), wasiNosys},
	{"sock_send", sig(i32, i32, i32, i32, i32), sig(i32), wasiNosys},
	{"sock_shutdown", sig(i32, i32), sig(i32), wasiNosys},
}

func wasiOK(f *frame, s []uint64) {
	f.enter(GasHostCall, 0)
	s[0] = errnoSuccess
}

func wasiNosys(f *frame, s []uint64) {
	f.enter(GasHostCall, 0)
	s[0] = errnoNosys
}

// wasiZeroPair writes two zero u32s: no args, no environment.
func wasiZeroPair(f *frame, s []uint64) {
	f.enter(GasHostCall, 8)
	f.write(u32(s[0]), make([]byte, 4))
	f.write(u32(s[1]), make([]byte, 4))
	s[0] = errnoSuccess
}

// wasiFdWrite sends stdout and stderr to the call's logs, one entry per
// complete line (without the newline; a final partial line is flushed when
// the call ends). Lines beyond the log caps are dropped, but charged.
func wasiFdWrite(f *frame, s []uint64) {
	fd, iovs, n, nwritten := u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3])
	f.enter(GasHostCall, 8*uint64(n))
	if fd != 1 && fd != 2 {
		s[0] = errnoBadf
		return
	}
	if n > 1024 {
		s[0] = errnoInval
		return
	}
	total := 0
	for i := uint32(0); i < n; i++ {
		iov := f.read(iovs+8*i, 8)
		ptr, l := binary.LittleEndian.Uint32(iov), binary.LittleEndian.Uint32(iov[4:])
		f.charge(uint64(l))
		f.t.stdio(fd, f.read(ptr, l), f.initPhase)
		total += int(l)
	}
	f.write(nwritten, binary.LittleEndian.AppendUint32(nil, uint32(total)))
	s[0] = errnoSuccess
}

// stdio buffers bytes written to fd 1 or 2 and logs each complete line.
func (t *txn) stdio(fd uint32, b []byte, discard bool) {
	if discard {
		return
	}
	buf := &t.pending[fd-1]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			if room := t.rt.cfg.MaxLogBytes - len(*buf); room > 0 {
				*buf = append(*buf, b[:min(len(b), room)]...)
			}
			return
		}
		*buf = append(*buf, b[:i]...)
		t.logLine(*buf)
		*buf = (*buf)[:0]
		b = b[i+1:]
	}
}

// flushStdio logs the partial lines left in the stdout and stderr buffers.
func (t *txn) flushStdio() {
	for i := range t.pending {
		if len(t.pending[i]) > 0 {
			t.logLine(t.pending[i])
			t.pending[i] = nil
		}
	}
}

// logLine adds a log entry if the caps allow, else drops it.
func (t *txn) logLine(b []byte) {
	if len(t.logs) < t.rt.cfg.MaxLogs && t.logBytes+len(b) <= t.rt.cfg.MaxLogBytes {
		t.logBytes += len(b)
		t.logs = append(t.logs, string(b))
	}
}

// wasiPollOneoff supports clock subscriptions only: it fires every clock
// subscription at once and advances the call's virtual clock by the
// shortest relative timeout, so a sleeping contract sees time move without
// any real waiting. fd subscriptions get EBADF events.
func wasiPollOneoff(f *frame, s []uint64) {
	in, out, n, neventsPtr := u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3])
	f.enter(GasHostCall, 80*uint64(n))
	if n == 0 || n > 64 {
		s[0] = errnoInval
		return
	}
	var advance int64 = -1
	events := make([]byte, 0, 32*n)
	for i := uint32(0); i < n; i++ {
		sub := f.read(in+48*i, 48)
		var ev [32]byte
		copy(ev[0:8], sub[0:8]) // userdata
		ev[10] = sub[8]         // type
		if sub[8] == 0 {
			timeout := int64(binary.LittleEndian.Uint64(sub[24:]))
			flags := binary.LittleEndian.Uint16(sub[40:])
			if flags&1 != 0 { // absolute
				timeout -= f.now()
			}
			timeout = max(timeout, 0)
			if advance < 0 || timeout < advance {
				advance = timeout
			}
		} else {
			binary.LittleEndian.PutUint16(ev[8:], errnoBadf)
		}
		events = append(events, ev[:]...)
	}
	if advance > 0 {
		if f.clock > math.MaxInt64-advance { // saturate: time never runs backwards
			f.clock = math.MaxInt64
		} else {
			f.clock += advance
		}
	}
	f.write(out, events)
	f.write(neventsPtr, binary.LittleEndian.AppendUint32(nil, n))
	s[0] = errnoSuccess
}

// monoBase is the monotonic clock at the start of every call and of
// initialisation: non-zero, because the Go runtime refuses a zero clock.
const monoBase = 1_000_000_000

// now is the call's clock in nanoseconds: the request time plus the
// virtual time slept.
func (f *frame) now() int64 { return f.req.Time*1_000_000_000 + f.clock }

// randStream is the deterministic random stream of random_get: block i is
// SHA-256(seed || uint64 big-endian i), consumed in order.
type randStream struct {
	seed  [32]byte
	ctr   uint64
	block [32]byte
	used  int
}

func newRandStream(seed [32]byte) randStream { return randStream{seed: seed, used: 32} }

func (r *randStream) next(n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		if r.used == 32 {
			var in [40]byte
			copy(in[:], r.seed[:])
			binary.BigEndian.PutUint64(in[32:], r.ctr)
			r.block = sha256.Sum256(in[:])
			r.ctr++
			r.used = 0
		}
		k := copy(out[len(out):n], r.block[r.used:])
		out = out[:len(out)+k]
		r.used += k
	}
	return out
}
