//go:build linux

package wasm

import (
	"context"
	"encoding/binary"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// cowImage is a snapshot's memory image in a sealed memfd. A pooled
// instance's linear memory maps it privately (copy on write) over the
// start of its own reservation. A page the instance writes becomes a
// private anonymous copy; every other page still reads the file. Resetting
// the instance to the snapshot therefore only has to copy the image into
// the pages that were ever written (found in /proc/self/pagemap), not the
// whole multi-MB image. The seals make the file immutable, so a page that
// still maps it always reads the snapshot.
type cowImage struct {
	fd       int
	pagemap  int // the Runtime's /proc/self/pagemap (not owned), to find the pages a call wrote
	size     int // bytes, a multiple of the wasm page size
	pageSize int

	closeOnce sync.Once
}

// openPagemap opens /proc/self/pagemap for a Runtime, or returns -1 when
// it cannot be read (then no image is copy on write).
func openPagemap() int {
	fd, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// closePagemap closes what openPagemap returned.
func closePagemap(fd int) {
	if fd >= 0 {
		_ = unix.Close(fd)
	}
}

// newCowImage copies image into a sealed memfd, or returns nil when the
// kernel offers no memfd or there is no page map (pagemap < 0): the
// copying reset is used then.
func newCowImage(image []byte, pagemap int) *cowImage {
	if pagemap < 0 || len(image) == 0 || len(image)%os.Getpagesize() != 0 {
		return nil
	}
	fd, err := unix.MemfdCreate("vm-snapshot", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil
	}
	ok := false
	defer func() {
		if !ok {
			_ = unix.Close(fd)
		}
	}()
	if err := unix.Ftruncate(fd, int64(len(image))); err != nil {
		return nil
	}
	for off := 0; off < len(image); {
		n, err := unix.Pwrite(fd, image[off:], int64(off))
		if err != nil || n <= 0 {
			return nil
		}
		off += n
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		return nil
	}
	ok = true
	return &cowImage{fd: fd, pagemap: pagemap, size: len(image), pageSize: os.Getpagesize()}
}

// close releases the memfd; mappings made from it stay valid.
func (c *cowImage) close() {
	if c == nil {
		return
	}
	c.closeOnce.Do(func() { _ = unix.Close(c.fd) })
}

// instantiateCow instantiates m with its memory in a reservation and, if
// possible, maps img over it: the instance is then in the snapshot's memory
// state (its globals still need restoring) and cow is non-nil. With cow
// nil the instance is a plain fresh one.
func (r *Runtime) instantiateCow(ctx context.Context, m *Module, img *cowImage) (inst *instance, cow *cowMemory, err error) {
	a := &cowAlloc{}
	inst, err = r.instantiate(experimental.WithMemoryAllocator(ctx, a), m)
	if err != nil {
		return nil, nil, err
	}
	if a.mem != nil && a.mem.mapImage(img) {
		cow = a.mem
	}
	return inst, cow, nil
}

// cowAlloc is the memory allocator of one instantiation: it records the
// memory it made so restore can map the image into it.
type cowAlloc struct {
	mem *cowMemory
}

var _ experimental.MemoryAllocator = (*cowAlloc)(nil)

// Allocate reserves max bytes of address space (anonymous, zero, not
// committed until touched). If the reservation fails it returns a memory
// on the Go heap, which restore treats like any fresh instance.
func (a *cowAlloc) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	if maxBytes > 0 && maxBytes <= 1<<32 {
		region, err := unix.Mmap(-1, 0, int(maxBytes), unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
		if err == nil {
			m := &cowMemory{region: region}
			// A memory whose instance is dropped without Close (wazero's
			// CloseOnContextDone closes an instance without freeing it)
			// is unmapped when it becomes garbage.
			m.cleanup = runtime.AddCleanup(m, func(r []byte) { _ = unix.Munmap(r) }, region)
			a.mem = m
			return m
		}
	}
	return &heapMemory{buf: make([]byte, 0, capBytes), max: maxBytes}
}

// cowMemory is a linear memory in a reserved mapping; once mapImage
// succeeded, region[:img.size] is a private mapping of the image.
type cowMemory struct {
	region  []byte
	img     *cowImage
	cleanup runtime.Cleanup
	pm      []byte // page map entries of the image range, reused
}

// Reallocate implements experimental.LinearMemory: the reservation never
// moves, growing only lengthens the slice (fresh pages read as zero).
func (m *cowMemory) Reallocate(size uint64) []byte {
	if m.region == nil || size > uint64(len(m.region)) {
		return nil
	}
	return m.region[:size:size]
}

// Free implements experimental.LinearMemory.
func (m *cowMemory) Free() {
	if m.region == nil {
		return
	}
	m.cleanup.Stop()
	_ = unix.Munmap(m.region)
	m.region = nil
}

// mapImage maps img privately over the start of the reservation,
// replacing whatever instantiation wrote there. It reports success.
func (m *cowMemory) mapImage(img *cowImage) bool {
	if img == nil || m.region == nil || img.size > len(m.region) {
		return false
	}
	_, err := unix.MmapPtr(img.fd, 0, unsafe.Pointer(unsafe.SliceData(m.region)), uintptr(img.size),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil {
		return false
	}
	m.img = img
	return true
}

// reset puts the memory back into the image's state without a page
// fault or a TLB shootdown: a page the instance wrote was copied on write
// and is now anonymous, every other page still maps the image, so reading
// the page map (/proc/self/pagemap) and copying the image into the
// anonymous pages is enough. Pages a call touched stay mapped, so the next
// call does not fault on them again. The caller has checked the memory
// still has the image's size.
func (m *cowMemory) reset(image []byte) error {
	n := m.img.size / m.img.pageSize
	if cap(m.pm) < n*8 {
		m.pm = make([]byte, n*8)
	}
	pm := m.pm[:n*8]
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.region)))
	off := int64(base/uintptr(m.img.pageSize)) * 8
	for got := 0; got < len(pm); {
		k, err := unix.Pread(m.img.pagemap, pm[got:], off+int64(got))
		if err != nil {
			return err
		}
		if k <= 0 {
			return unix.EIO
		}
		got += k
	}
	ps := m.img.pageSize
	for i := range n {
		e := binary.LittleEndian.Uint64(pm[i*8:])
		if e&pmPresent != 0 && e&pmFile == 0 || e&pmSwapped != 0 {
			copy(m.region[i*ps:(i+1)*ps], image[i*ps:(i+1)*ps])
		}
	}
	return nil
}

// Bits of a /proc/self/pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
const (
	pmPresent = 1 << 63
	pmSwapped = 1 << 62
	pmFile    = 1 << 61 // file page or shared anonymous: not copied on write
)

// heapMemory is the fallback LinearMemory when no reservation could be
// made: a Go slice grown by copying, like wazero's own.
type heapMemory struct {
	buf []byte
	max uint64
}

func (h *heapMemory) Reallocate(size uint64) []byte {
	if size > h.max {
		return nil
	}
	if size <= uint64(cap(h.buf)) {
		h.buf = h.buf[:size]
		return h.buf
	}
	nb := make([]byte, size)
	copy(nb, h.buf)
	h.buf = nb
	return h.buf
}

func (h *heapMemory) Free() { h.buf = nil }
