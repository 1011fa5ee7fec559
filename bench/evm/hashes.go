package evm

import (
	"github.com/virtual-machine/vm/bench/internal/wasmbin"
)

// HashModule returns the original (unmetered) WebAssembly module with the
// hand-written hash chains: exports "sha256" and "keccak" (type [] -> [])
// read n as 8 little-endian input bytes and write the 32-byte digest after
// n chained hashes of 32 bytes (SHA256 and Keccak). Both are the textbook
// algorithms (FIPS 180-4 SHA-256; Keccak-f[1600] with Keccak-256's padding)
// fully unrolled, state and message schedule in locals, as an optimising
// compiler would emit them.
func HashModule() []byte {
	var m wasmbin.Module
	i32, i64 := wasmbin.I32, wasmbin.I64
	inputRead := m.Import("vm", "input_read", []byte{i32}, nil)
	outputWrite := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1)
	sha := m.Declare([]byte{i64}, nil)
	locals, code := sha256Body()
	m.Define(sha, locals, code)
	kec := m.Declare([]byte{i64}, nil)
	locals, code = keccakBody()
	m.Define(kec, locals, code)
	for _, e := range []struct {
		name string
		fn   uint32
	}{{"sha256", sha}, {"keccak", kec}} {
		entry := m.Declare(nil, nil)
		var c wasmbin.Code
		c.I32(0).Idx(wasmbin.OpCall, inputRead)
		c.I32(0).Mem(wasmbin.OpI64Load, 3, 0).Idx(wasmbin.OpCall, e.fn)
		c.I32(0).I32(32).Idx(wasmbin.OpCall, outputWrite)
		m.Define(entry, nil, &c)
		m.Export(e.name, entry)
	}
	return m.Bytes()
}

// loopN wraps body in "while n != 0 { n--; body }" for the i64 param 0.
func loopN(c *wasmbin.Code, body func()) {
	c.Idx(wasmbin.OpBlock, uint32(wasmbin.BlockEmpty)).Idx(wasmbin.OpLoop, uint32(wasmbin.BlockEmpty))
	c.Idx(wasmbin.OpLocalGet, 0).Op(wasmbin.OpI64Eqz).Idx(wasmbin.OpBrIf, 1)
	c.Idx(wasmbin.OpLocalGet, 0).I64(1).Op(wasmbin.OpI64Sub).Idx(wasmbin.OpLocalSet, 0)
	body()
	c.Idx(wasmbin.OpBr, 0).Op(wasmbin.OpEnd, wasmbin.OpEnd)
}

var sha256K = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

var sha256IV = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// sha256Body is func(n i64): chains n SHA-256 compressions of the 32-byte
// digest (one padded block each) and stores the digest at memory[0:32].
func sha256Body() ([]byte, *wasmbin.Code) {
	const (
		hBase = 1  // H0..H7
		wBase = 9  // W0..W63
		vBase = 73 // working variables a..h
		t1    = 81
		nLoc  = 82 - 1
	)
	locals := make([]byte, nLoc)
	for i := range locals {
		locals[i] = wasmbin.I32
	}
	var c wasmbin.Code
	get := func(i int) { c.Idx(wasmbin.OpLocalGet, uint32(i)) }
	set := func(i int) { c.Idx(wasmbin.OpLocalSet, uint32(i)) }
	// rotx pushes rotr(x,a) ^ rotr(x,b) ^ (third(x)) where third is a
	// rotr or a shift right.
	sig := func(x, a, b, k int, shift bool) {
		get(x)
		c.I32(int32(a)).Op(wasmbin.OpI32Rotr)
		get(x)
		c.I32(int32(b)).Op(wasmbin.OpI32Rotr, wasmbin.OpI32Xor)
		get(x)
		c.I32(int32(k))
		if shift {
			c.Op(wasmbin.OpI32ShrU)
		} else {
			c.Op(wasmbin.OpI32Rotr)
		}
		c.Op(wasmbin.OpI32Xor)
	}
	loopN(&c, func() {
		for i := range 8 {
			get(hBase + i)
			set(wBase + i)
		}
		c.I32(-0x80000000)
		set(wBase + 8)
		for i := 9; i < 15; i++ {
			c.I32(0)
			set(wBase + i)
		}
		c.I32(256)
		set(wBase + 15)
		for t := 16; t < 64; t++ {
			sig(wBase+t-2, 17, 19, 10, true)
			get(wBase + t - 7)
			c.Op(wasmbin.OpI32Add)
			sig(wBase+t-15, 7, 18, 3, true)
			c.Op(wasmbin.OpI32Add)
			get(wBase + t - 16)
			c.Op(wasmbin.OpI32Add)
			set(wBase + t)
		}
		for i := range 8 {
			c.I32(int32(sha256IV[i]))
			set(vBase + i)
		}
		// v[0..7] name the locals holding a..h this round; renaming
		// instead of moving, as unrolled implementations do.
		var v [8]int
		for i := range v {
			v[i] = vBase + i
		}
		for t := range 64 {
			a, b, cc, d, e, f, g, h := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
			// T1 = h + Σ1(e) + Ch(e,f,g) + K[t] + W[t]
			get(h)
			sig(e, 6, 11, 25, false)
			c.Op(wasmbin.OpI32Add)
			get(g)
			get(e)
			get(f)
			get(g)
			c.Op(wasmbin.OpI32Xor, wasmbin.OpI32And, wasmbin.OpI32Xor, wasmbin.OpI32Add) // g ^ (e & (f ^ g))
			c.I32(int32(sha256K[t])).Op(wasmbin.OpI32Add)
			get(wBase + t)
			c.Op(wasmbin.OpI32Add)
			set(t1)
			// d += T1 (the new e)
			get(d)
			get(t1)
			c.Op(wasmbin.OpI32Add)
			set(d)
			// h = T1 + Σ0(a) + Maj(a,b,c) (the new a)
			get(t1)
			sig(a, 2, 13, 22, false)
			c.Op(wasmbin.OpI32Add)
			get(a)
			get(b)
			c.Op(wasmbin.OpI32And)
			get(cc)
			get(a)
			get(b)
			c.Op(wasmbin.OpI32Or, wasmbin.OpI32And, wasmbin.OpI32Or, wasmbin.OpI32Add) // (a&b) | (c&(a|b))
			set(h)
			v = [8]int{h, a, b, cc, d, e, f, g}
		}
		for i := range 8 {
			c.I32(int32(sha256IV[i]))
			get(v[i])
			c.Op(wasmbin.OpI32Add)
			set(hBase + i)
		}
	})
	// Store H big-endian, byte by byte.
	for i := range 8 {
		for j := range 4 {
			c.I32(int32(4*i + j))
			get(hBase + i)
			c.I32(int32(24 - 8*j)).Op(wasmbin.OpI32ShrU)
			c.Mem(wasmbin.OpI32Store8, 0, 0)
		}
	}
	return locals, &c
}

// keccakRC returns the 24 round constants of Keccak-f[1600], computed
// with the specification's LFSR rather than typed in.
func keccakRC() [24]uint64 {
	rc := func(t int) uint64 {
		if t%255 == 0 {
			return 1
		}
		r := uint16(1)
		for range t % 255 {
			r <<= 1
			if r&0x100 != 0 {
				r ^= 0x171
			}
		}
		return uint64(r & 1)
	}
	var out [24]uint64
	for i := range out {
		for j := range 7 {
			out[i] |= rc(j+7*i) << ((1 << j) - 1)
		}
	}
	return out
}

// keccakRot returns the rho rotation offsets r[x+5y], computed with the
// specification's walk.
func keccakRot() [25]int {
	var r [25]int
	x, y := 1, 0
	for t := range 24 {
		r[x+5*y] = ((t + 1) * (t + 2) / 2) % 64
		x, y = y, (2*x+3*y)%5
	}
	return r
}

// keccakBody is func(n i64): chains n Keccak-256 hashes of the 32-byte
// digest (one padded 136-byte block each: lanes 0-3 the digest, 0x01
// after it, 0x80 in the last rate byte) and stores the digest at
// memory[0:32].
func keccakBody() ([]byte, *wasmbin.Code) {
	const (
		aBase = 1  // A[0..24]
		bBase = 26 // B[0..24]
		cBase = 51 // C[0..4]
		dLoc  = 56
		nLoc  = 57 - 1
	)
	locals := make([]byte, nLoc)
	for i := range locals {
		locals[i] = wasmbin.I64
	}
	var c wasmbin.Code
	get := func(i int) { c.Idx(wasmbin.OpLocalGet, uint32(i)) }
	set := func(i int) { c.Idx(wasmbin.OpLocalSet, uint32(i)) }
	rcs, rot := keccakRC(), keccakRot()
	loopN(&c, func() {
		// Absorb: A[0..3] already hold the previous digest.
		for i := 4; i < 25; i++ {
			switch i {
			case 4:
				c.I64(0x01)
			case 16:
				c.I64(0x80 << 56)
			default:
				c.I64(0)
			}
			set(aBase + i)
		}
		for _, rc := range rcs {
			// theta
			for x := range 5 {
				get(aBase + x)
				for y := 1; y < 5; y++ {
					get(aBase + x + 5*y)
					c.Op(wasmbin.OpI64Xor)
				}
				set(cBase + x)
			}
			for x := range 5 {
				get(cBase + (x+4)%5)
				get(cBase + (x+1)%5)
				c.I64(1).Op(wasmbin.OpI64Rotl, wasmbin.OpI64Xor)
				set(dLoc)
				for y := range 5 {
					get(aBase + x + 5*y)
					get(dLoc)
					c.Op(wasmbin.OpI64Xor)
					set(aBase + x + 5*y)
				}
			}
			// rho and pi
			for x := range 5 {
				for y := range 5 {
					get(aBase + x + 5*y)
					if r := rot[x+5*y]; r != 0 {
						c.I64(uint64(r)).Op(wasmbin.OpI64Rotl)
					}
					set(bBase + y + 5*((2*x+3*y)%5))
				}
			}
			// chi
			for y := range 5 {
				for x := range 5 {
					get(bBase + x + 5*y)
					get(bBase + (x+1)%5 + 5*y)
					c.I64(^uint64(0)).Op(wasmbin.OpI64Xor)
					get(bBase + (x+2)%5 + 5*y)
					c.Op(wasmbin.OpI64And, wasmbin.OpI64Xor)
					set(aBase + x + 5*y)
				}
			}
			// iota
			get(aBase)
			c.I64(rc).Op(wasmbin.OpI64Xor)
			set(aBase)
		}
	})
	for i := range 4 {
		c.I32(int32(8 * i))
		get(aBase + i)
		c.Mem(wasmbin.OpI64Store, 3, 0)
	}
	return locals, &c
}
