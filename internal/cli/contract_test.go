package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/cli"
	wt "github.com/virtual-machine/vm/internal/wasm/wasmtest"
)

// echoModule exports echo (output = input), spin (endless loop) and
// exports nothing else; it imports only the ABI.
func echoModule() []byte {
	i32 := wt.I32
	m := wt.New()
	inLen := m.Import("vm", "input_len", nil, []byte{i32})
	inRead := m.Import("vm", "input_read", []byte{i32}, nil)
	out := m.Import("vm", "output_write", []byte{i32, i32}, nil)
	m.Memory(1, 1)
	m.Export("echo", m.Func(nil, nil, nil, wt.Code{}.I32(0).Call(inRead).I32(0).Call(inLen).Call(out)))
	m.Export("spin", m.Func(nil, nil, nil, wt.Code{}.Loop().Br(0).End()))
	return m.Bytes()
}

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestContractRun(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "echo.wasm")
	if err := os.WriteFile(mod, echoModule(), 0o644); err != nil {
		t.Fatal(err)
	}
	inFile := filepath.Join(dir, "in.json")
	if err := os.WriteFile(inFile, []byte(`{"from":"file"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStatus string
		wantOutput string
		wantErr    string
	}{
		{name: "literal input", args: []string{"--input", `{"a":1}`}, wantStatus: "ok", wantOutput: `{"a":1}`},
		{name: "file input", args: []string{"--input", "@" + inFile}, wantStatus: "ok", wantOutput: `{"from":"file"}`},
		{name: "stdin input", stdin: "piped", args: []string{"--input", "-"}, wantStatus: "ok", wantOutput: "piped"},
		{name: "interpreter", args: []string{"--input", "x", "--engine", "interpreter"}, wantStatus: "ok", wantOutput: "x"},
		{name: "unmetered", args: []string{"--input", "x", "--unmetered"}, wantStatus: "ok", wantOutput: "x"},
		{name: "out of gas", args: []string{"--fn", "spin", "--gas", "100000"}, wantCode: 2, wantStatus: "out_of_gas"},
		{name: "unknown function", args: []string{"--fn", "nope"}, wantCode: 2, wantStatus: "bad_input"},
		{name: "not wasm", args: []string{"--input", "x"}, wantCode: 2, wantStatus: "invalid_module"},
		{name: "bad engine", args: []string{"--engine", "jit"}, wantCode: 1, wantErr: "engine"},
		{name: "missing input file", args: []string{"--input", "@" + filepath.Join(dir, "none")}, wantCode: 1, wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := mod
			if tc.name == "not wasm" {
				file = inFile
			}
			args := append([]string{"contract", "run", file, "--output", "json"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--fn") {
				args = append(args, "--fn", "echo")
			}
			code, out, errOut := runCLI(t, tc.stdin, args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tc.wantCode, out, errOut)
			}
			if tc.wantErr != "" {
				if !strings.Contains(errOut, tc.wantErr) {
					t.Fatalf("stderr %q, want %q", errOut, tc.wantErr)
				}
				return
			}
			var v struct {
				Status  string  `json:"status"`
				Output  *string `json:"output"`
				GasUsed uint64  `json:"gas_used"`
				Elapsed int64   `json:"elapsed_ns"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("bad JSON %q: %v", out, err)
			}
			if v.Status != tc.wantStatus || (tc.wantOutput != "" && (v.Output == nil || *v.Output != tc.wantOutput)) {
				t.Fatalf("got %s", out)
			}
			if v.Status == "ok" && (v.GasUsed == 0 || v.Elapsed <= 0) {
				t.Errorf("gas %d elapsed %d", v.GasUsed, v.Elapsed)
			}
		})
	}
	// Text output.
	code, out, _ := runCLI(t, "", "contract", "run", mod, "--fn", "echo", "--input", "hi")
	if code != 0 || !strings.Contains(out, "status:   ok") || !strings.Contains(out, "output:   hi") {
		t.Errorf("text output: %d %q", code, out)
	}
}

func TestContractMeter(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "echo.wasm"), filepath.Join(dir, "echo.metered.wasm")
	if err := os.WriteFile(in, echoModule(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "contract", "meter", in, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	metered, err := os.ReadFile(out)
	if err != nil || !bytes.Contains(metered, []byte("vm_gas")) {
		t.Fatalf("metered module missing or without vm_gas: %v", err)
	}
	// The metered module runs with --unmetered (it is already metered) and
	// its own counter still bounds it.
	code, stdout, _ = runCLI(t, "", "contract", "run", out, "--unmetered", "--fn", "spin", "--gas", "5000", "-o", "json")
	if code != 2 || !strings.Contains(stdout, `"out_of_gas"`) {
		t.Errorf("metered file run: %d %s", code, stdout)
	}
	// Bad inputs: no -o, not wasm, foreign import.
	if code, _, stderr = runCLI(t, "", "contract", "meter", in); code != 1 || !strings.Contains(stderr, "-o") {
		t.Errorf("missing -o: %d %s", code, stderr)
	}
	junk := filepath.Join(dir, "junk.wasm")
	os.WriteFile(junk, []byte("not wasm"), 0o644)
	if code, _, stderr = runCLI(t, "", "contract", "meter", junk, "-o", out); code != 1 || !strings.Contains(stderr, "invalid") {
		t.Errorf("junk: %d %s", code, stderr)
	}
	m := wt.New()
	m.Import("env", "syscall", nil, nil)
	m.Export("run", m.Func(nil, nil, nil, nil))
	foreign := filepath.Join(dir, "foreign.wasm")
	os.WriteFile(foreign, m.Bytes(), 0o644)
	if code, _, stderr = runCLI(t, "", "contract", "meter", foreign, "-o", out); code != 1 || !strings.Contains(stderr, "import") {
		t.Errorf("foreign import: %d %s", code, stderr)
	}
}
