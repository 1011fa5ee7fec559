package cli_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
)

// TestPortalHTTP checks the browser side of the node's HTTP server: the
// portal's headers, its refusal of writes, and the API's refusal of
// cross-site writes (CSRF).
func TestPortalHTTP(t *testing.T) {
	url, out := mrDevnet(t, t.TempDir(), "--warm=false")
	if !strings.Contains(out.String(), "Portal:  "+url+"/\n") {
		t.Errorf("vm devnet does not say where the portal is:\n%s", out.String())
	}
	for _, path := range []string{"/", "/keys", "/ids/ada", "/app.js", "/app.css"} {
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		if res.StatusCode != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Encoding") != "gzip" {
			t.Errorf("GET %s: %d, headers %v", path, res.StatusCode, h)
		}
		wantType := map[string]string{"/app.js": "text/javascript", "/app.css": "text/css"}[path]
		if wantType == "" {
			wantType = "text/html"
		}
		if !strings.HasPrefix(h.Get("Content-Type"), wantType) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, h.Get("Content-Type"), wantType)
		}
	}
	res, err := http.Post(url+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", res.StatusCode)
	}
	for _, site := range []string{"cross-site", "same-site"} {
		req, _ := http.NewRequest("POST", url+"/v1/txs", strings.NewReader("x"))
		req.Header.Set("Sec-Fetch-Site", site)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST /v1/txs with Sec-Fetch-Site %s = %d, want 403", site, res.StatusCode)
		}
	}
	// The CLI sends neither header and is served; so is a same-origin page.
	req, _ := http.NewRequest("POST", url+"/v1/txs", strings.NewReader("x"))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "decode") {
		t.Errorf("same-origin POST of a bad tx = %d %s, want the API's decode refusal", res.StatusCode, body)
	}
}

// TestPortalCreateID drives the portal in Chromium against `vm devnet` with
// its built-in miner: make a key, refuse bad input, get GAS, create an ID
// and see where it is, export the key to the CLI, send GAS, and check the
// browser signed exactly the bytes the CLI signs for the same body.
func TestPortalCreateID(t *testing.T) {
	home := t.TempDir()
	url, _ := mrDevnet(t, home)
	t.Setenv(cli.EnvPass, "pw")
	alice := ktKey(t, home, "alice", "pw")
	b := brOpen(t)

	b.do(t, "open the portal", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	b.shot(t, "home-new")
	b.audit(t, "home")
	b.do(t, "a bad key name", fill(`input[name=keyname]`, "Not A Name"),
		submit(`input[name=keyname]`))
	b.waitText(t, ".status.error", "a key name is 1-64 characters")
	b.do(t, "make a key", fill(`input[name=keyname]`, "web"),
		submit(`input[name=keyname]`))
	b.waitText(t, "#main", "Signing with web")
	webAddr := strings.TrimSpace(b.text(t, "li.done code"))

	// Refused names send nothing: the key's account stays unknown.
	for _, c := range []struct{ name, want string }{
		{"ab", "3 to 32 characters"}, {"Ada", "only a-z"}, {"9lives", "starts with a letter"}, {"admin", "reserved"},
	} {
		b.do(t, "name "+c.name, fill(`input[name=idname]`, c.name),
			submit(`input[name=idname]`))
		b.waitText(t, "li:nth-child(3) .status.error", c.want)
	}
	b.do(t, "a create without GAS", fill(`input[name=idname]`, "webada"),
		submit(`input[name=idname]`))
	b.waitText(t, "li:nth-child(3) .status.error", "not enough GAS")
	if acc := ktAccount(t, url, webAddr); acc.Nonce != 0 {
		t.Fatalf("refused input sent a transaction: nonce %d", acc.Nonce)
	}

	b.do(t, "faucet", chromedp.Click(`//button[text()="Get devnet GAS"]`))
	b.waitText(t, "#balance", "100,000,000 GAS")
	b.do(t, "create", fill(`input[name=idname]`, "webada"),
		submit(`input[name=idname]`))
	b.waitText(t, `section[data-id="webada"] h2`, "webada — created")
	b.shot(t, "id-created")
	b.audit(t, "home with an ID")
	var id apitype.ID
	ktGetJSON(t, url+"/v1/ids/webada", &id)
	if id.Owner != webAddr {
		t.Fatalf("webada owner %s, want the browser key %s", id.Owner, webAddr)
	}
	if got := b.text(t, `section[data-id="webada"] dl.loc`); !strings.Contains(got, id.Location.Key) {
		t.Errorf("the page's location %q lacks the key %s", got, id.Location.Key)
	}
	b.do(t, "create again", fill(`input[name=idname]`, "webada"),
		submit(`input[name=idname]`))
	b.waitText(t, `section[data-id="webada"] h2`, "already exists")
	b.do(t, "download the location", chromedp.Click(`//a[text()="Download location"]`))
	var locFile struct {
		ID       string            `json:"id"`
		Location *apitype.Location `json:"location"`
	}
	if err := json.Unmarshal(b.download(t, "webada-location.json"), &locFile); err != nil || locFile.Location == nil {
		t.Fatalf("location file: %v", err)
	}
	locPath := filepath.Join(t.TempDir(), "loc.json")
	if err := os.WriteFile(locPath, b.download(t, "webada-location.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := ktRun(t, home, "--node", url, "id", "verify", locPath)
	if r.code != 0 {
		t.Fatalf("vm id verify of the portal's location file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The CLI names the genesis it trusts by the hash the portal pins.
	gen, err := client.New(url).Genesis(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stdout, "trusted genesis validators: "+gen.Hash) {
		t.Errorf("vm id verify printed %q; want the genesis hash %s", r.stdout, gen.Hash)
	}

	// Export the browser's key; the CLI imports it.
	b.do(t, "keys page", chromedp.Click(`//nav//a[text()="Keys"]`), chromedp.WaitVisible(chromedp.CSS(`tr[data-key="web"]`)))
	b.shot(t, "keys")
	b.audit(t, "keys")
	b.do(t, "export without a passphrase", fill(`tr[data-key="web"] input[type=password]`, ""),
		submit(`tr[data-key="web"] input[type=password]`))
	b.waitText(t, `tr[data-key="web"] .status.error`, "choose a passphrase")
	for _, c := range []struct{ name, want string }{{"web", "a key named web exists"}, {"Web Key", "a key name is 1-64"}} {
		b.do(t, "make "+c.name, fill(`input[name=newkey]`, c.name), submit(`input[name=newkey]`))
		b.waitText(t, "main section .status.error", c.want)
	}
	b.do(t, "export", fill(`tr[data-key="web"] input[type=password]`, "pw"),
		submit(`tr[data-key="web"] input[type=password]`))
	file := b.download(t, "web.key.json")
	kf := filepath.Join(t.TempDir(), "web.key.json")
	if err := os.WriteFile(kf, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := ktRun(t, home, "keys", "import", "web", kf); r.code != 0 || !strings.Contains(r.stdout, webAddr) {
		t.Fatalf("vm keys import of the portal's file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	brImport(t, b, home)
	var f crypto.KeyFile
	if err := json.Unmarshal(file, &f); err != nil {
		t.Fatal(err)
	}
	webKey, err := f.Decrypt("pw")
	if err != nil {
		t.Fatal(err)
	}

	brRecords(t, b, url, home)

	// GAS: bad input first, then a transfer to alice by address.
	b.do(t, "GAS page", chromedp.Click(`//nav//a[text()="GAS"]`), chromedp.WaitVisible(chromedp.CSS(`input[name=sendto]`)))
	unchanged := ktAccount(t, url, webAddr)
	for _, c := range []struct{ to, amount, want string }{
		{"", "5", "to: an ID"}, {"nobody-here", "5", "no ID named nobody-here"}, {alice.Address().String(), "abc", "a whole number"},
		{alice.Address().String(), "0", "more than 0"}, {alice.Address().String(), "999999999999", "not enough GAS"},
		{"Not_An_ID", "5", "only a-z"},
	} {
		b.do(t, "send "+c.amount+" to "+c.to, fill(`input[name=sendto]`, c.to),
			fill(`input[name=sendamount]`, c.amount), submit(`input[name=sendto]`))
		b.waitText(t, "#send .status.error", c.want)
	}
	for _, c := range []struct{ amount, want string }{{"abc", "a whole number"}, {"0", "more than 0"}} {
		b.do(t, "faucet "+c.amount, fill(`input[name=faucetamount]`, c.amount), submit(`input[name=faucetamount]`))
		b.waitText(t, "main section .status.error", c.want)
	}
	if acc := ktAccount(t, url, webAddr); acc.Nonce != unchanged.Nonce || acc.Balance != unchanged.Balance {
		t.Fatalf("refused GAS forms changed the account: %+v, was %+v", acc, unchanged)
	}
	// Keyboard only: type into the form, Tab to the next field, Enter.
	b.do(t, "keyboard send", chromedp.Evaluate[chromedp.Void](`document.querySelector("input[name=sendto]").value = ""; document.querySelector("input[name=sendamount]").value = ""; document.querySelector("input[name=sendto]").focus()`),
		chromedp.KeyEvent(alice.Address().String()), chromedp.KeyEvent("\t"), chromedp.KeyEvent("7"))
	if name, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.name`)); err != nil || name != "sendamount" {
		t.Fatalf("Tab from the To field focused %q (%v), want the amount", name, err)
	}
	b.do(t, "enter", chromedp.KeyEvent("\r"))
	b.waitText(t, "#send .status.ok", "Sent 7 GAS")
	before := ktAccount(t, url, webAddr)
	b.do(t, "send", fill(`input[name=sendto]`, alice.Address().String()),
		fill(`input[name=sendamount]`, "1234"), submit(`input[name=sendto]`))
	b.waitText(t, "#send .status.ok", "Sent 1,234 GAS")
	b.waitText(t, "table.history", "sent 1,234 GAS")
	b.waitText(t, "table.history", "faucet 100,000,000 GAS")
	b.shot(t, "gas")
	b.audit(t, "gas")
	hash := b.text(t, "code[data-tx]")
	var got apitype.Tx
	ktGetJSON(t, url+"/v1/txs/"+hash, &got)
	var st apitype.Status
	ktGetJSON(t, url+"/v1/status", &st)
	fee := ktUint(t, st.MinFee)
	aliceAddr := alice.Address()
	want, err := tx.Sign(&txpb.TxBody{ChainId: st.ChainID, Nonce: before.Nonce, Fee: fee, Msgs: []*txpb.Msg{
		{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: aliceAddr[:], Amount: 1234}}}}}, webKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tx != hex.EncodeToString(want) {
		t.Fatalf("the browser's tx differs from the CLI's for the same body:\nbrowser %s\ncli     %s", got.Tx, hex.EncodeToString(want))
	}

	brAllSigned(t, url, webKey, st.ChainID)

	// A phone-sized screen.
	b.do(t, "phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(url+"/ids/webada"),
		chromedp.WaitVisible(chromedp.CSS(`section[data-id="webada"]`)))
	b.shot(t, "id-phone")
	if w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > 390 {
		t.Errorf("the ID page is %d px wide on a 390 px screen (err %v)", w, err)
	}
}

func ktAccount(t *testing.T, url, addr string) apitype.Account {
	t.Helper()
	var a apitype.Account
	res, err := http.Get(url + "/v1/accounts/" + addr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return a
	}
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

func ktGetJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func ktUint(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// portalBudget is issue 7's first-load budget: bytes over the wire and
// time to interactive.
const (
	portalBudgetBytes = 300 << 10
	portalBudgetReady = time.Second
)

// TestPortalFirstLoad checks the home page's first load in a fresh
// browser against the byte budget (exact) and, loosely, the time budget
// (the benchmark measures it; a loaded CI machine gets 5×).
func TestPortalFirstLoad(t *testing.T) {
	url, _ := mrDevnet(t, t.TempDir(), "--warm=false")
	b := brOpen(t)
	st, err := b.coldLoad(b.ctx, url+"/", true)
	if err != nil {
		t.Fatal(err)
	}
	if st.transferred <= 0 || st.transferred > portalBudgetBytes {
		t.Errorf("first load transferred %d bytes, budget %d", st.transferred, portalBudgetBytes)
	}
	if st.ready <= 0 || st.ready > 5*portalBudgetReady {
		t.Errorf("first load ready after %v, budget %v", st.ready, portalBudgetReady)
	}
	t.Logf("first load: %d bytes, ready %v, load event %v", st.transferred, st.ready, st.loaded)
}

// BenchmarkPortalFirstLoad is the home page's cold load (a new browser
// context each time: empty cache and storage) against a baseline in the
// same run, a cold load of the API's /v1/status (a page with no script).
// It reports both, their ratio and the bytes transferred.
func BenchmarkPortalFirstLoad(b *testing.B) {
	url, _ := mrDevnet(b, b.TempDir(), "--warm=false")
	br := brOpen(b)
	var ready, base, loaded time.Duration
	var bytes int64
	for b.Loop() {
		st, err := br.coldLoad(br.ctx, url+"/", true)
		if err != nil {
			b.Fatal(err)
		}
		bl, err := br.coldLoad(br.ctx, url+"/v1/status", false)
		if err != nil {
			b.Fatal(err)
		}
		ready, loaded, base, bytes = ready+st.ready, loaded+st.loaded, base+bl.loaded, st.transferred
	}
	n := float64(b.N)
	b.ReportMetric(float64(ready.Milliseconds())/n, "ms-ready")
	b.ReportMetric(float64(loaded.Milliseconds())/n, "ms-load")
	b.ReportMetric(float64(base.Milliseconds())/n, "ms-baseline")
	b.ReportMetric(float64(ready)/float64(base), "ready/baseline")
	b.ReportMetric(float64(bytes)/1024, "KiB")
}

// brFundedKey opens the portal, makes key name in the browser and fills
// it from the faucet; it returns the key's address.
func brFundedKey(t *testing.T, b *brSession, url, name string) string {
	t.Helper()
	b.do(t, "open the portal", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	b.do(t, "make a key", fill(`input[name=keyname]`, name), submit(`input[name=keyname]`))
	b.waitText(t, "#main", "Signing with "+name)
	b.do(t, "faucet", chromedp.Click(`//button[text()="Get devnet GAS"]`))
	b.waitText(t, "#balance", "100,000,000 GAS")
	return strings.TrimSpace(b.text(t, "li.done code"))
}

// TestPortalExplorer drives the pool, a call from a schema-built form
// with its result arriving live, the result page, the miners and the
// blocks (live), a block and a transaction.
func TestPortalExplorer(t *testing.T) {
	home := t.TempDir()
	url, _ := mrDevnet(t, home, "--warm=false")
	t.Setenv(cli.EnvPass, "pw")
	ktKey(t, home, "alice", "pw")
	if r := ktRun(t, home, "--node", url, "gas", "faucet", "alice"); r.code != 0 {
		t.Fatalf("faucet: %s", r.stderr)
	}
	dir := t.TempDir()
	code, iface := filepath.Join(dir, "echo.wasm"), filepath.Join(dir, "iface.json")
	if err := os.WriteFile(code, mrEcho(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(iface, []byte(`{"functions":[{"name":"echo","description":"Writes its input back.",`+
		`"input":{"type":"object","required":["msg"],"properties":{"msg":{"type":"string","minLength":2,"description":"What to say"}}}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := ktRun(t, home, "--node", url, "contract", "deploy", code, "--name", "echo", "--version", "1.0.0", "--from", "alice",
		"--interface", iface, "--description", "Says it back", "--tag", "demo"); r.code != 0 {
		t.Fatalf("deploy: %s%s", r.stdout, r.stderr)
	}
	iface2 := filepath.Join(dir, "iface2.json")
	if err := os.WriteFile(iface2, []byte(`{"functions":[{"name":"echo","input":{"type":"array","maxItems":3}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := ktRun(t, home, "--node", url, "contract", "deploy", code, "--name", "listecho", "--version", "1.0.0", "--from", "alice",
		"--interface", iface2); r.code != 0 {
		t.Fatalf("deploy listecho: %s%s", r.stdout, r.stderr)
	}
	b := brOpen(t)
	brFundedKey(t, b, url, "caller")

	// A schema the form cannot lay out as fields takes JSON, checked here.
	b.do(t, "listecho", chromedp.Navigate(url+"/contracts/listecho"), chromedp.WaitVisible(chromedp.CSS(`textarea[name=echo-input]`)))
	for _, c := range []struct{ in, want string }{{"{not json", "input: not JSON"}, {`{"a":1}`, "input: want array"}} {
		b.do(t, "call with "+c.in, fill(`textarea[name=echo-input]`, c.in), submit(`textarea[name=echo-input]`))
		b.waitText(t, `section[data-fn="echo"] .status.error`, c.want)
	}
	b.do(t, "call listecho", fill(`textarea[name=echo-input]`, `[1, "two"]`), submit(`textarea[name=echo-input]`))
	b.waitText(t, `section[data-fn="echo"] pre.out`, `"two"`)

	b.do(t, "contracts", chromedp.Click(`//nav//a[text()="Contracts"]`), chromedp.WaitVisible(chromedp.CSS(`article[data-contract="echo"]`)))
	b.do(t, "search", fill(`input[name=query]`, "nothing-like-this"), submit(`input[name=query]`))
	b.waitText(t, "#contract-list", "No contract matches")
	b.do(t, "search", fill(`input[name=query]`, "says it"), submit(`input[name=query]`),
		chromedp.WaitVisible(chromedp.CSS(`article[data-contract="echo"]`)))
	b.shot(t, "contracts")
	b.audit(t, "contracts")
	b.do(t, "open echo", chromedp.Click(chromedp.CSS(`article[data-contract="echo"] h2 a`)), chromedp.WaitVisible(chromedp.CSS(`section[data-fn="echo"]`)))
	b.do(t, "interface", chromedp.Click(chromedp.CSS(`details.interface summary`)))
	b.waitText(t, "details.interface pre", `"minLength": 2`)
	for _, c := range []struct{ msg, want string }{{"", "msg: required"}, {"x", "msg: at least 2 characters"}} {
		b.do(t, "call with "+c.msg, fill(`input[name=echo-msg]`, c.msg), submit(`input[name=echo-msg]`))
		b.waitText(t, `section[data-fn="echo"] .status.error`, c.want)
	}
	b.do(t, "bad gas", fill(`input[name=echo-msg]`, "hello portal"), fill(`input[name=gas]`, "-5"), submit(`input[name=echo-msg]`))
	b.waitText(t, `section[data-fn="echo"] .status.error`, "gas limit: a whole number")
	b.do(t, "call", fill(`input[name=gas]`, "5000000"), submit(`input[name=echo-msg]`))
	b.waitText(t, `section[data-fn="echo"] .exec`, "ok")
	b.waitText(t, `section[data-fn="echo"] pre.out`, `"msg": "hello portal"`)
	b.shot(t, "contract-call")
	b.audit(t, "contract")
	b.do(t, "result page", chromedp.Click(chromedp.CSS(`section[data-fn="echo"] .result h3 a`)), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	b.waitText(t, "main .exec", "ok")
	b.waitText(t, "main", "Paid")
	b.shot(t, "result")
	b.audit(t, "result")

	// The contract's metrics and recent results come from the node's
	// explorer index.
	b.do(t, "echo metrics", chromedp.Navigate(url+"/contracts/echo"), chromedp.WaitVisible(chromedp.CSS(`figure.chart canvas`)))
	b.waitText(t, ".metrics .totals", "1 calls, 100.0 % ok")
	b.waitText(t, "table.recent tbody", "ok")
	b.do(t, "logs", chromedp.Click(chromedp.CSS(`table.recent summary`)))
	b.waitText(t, "table.recent pre.out", "")
	b.shot(t, "contract-metrics")
	b.audit(t, "contract metrics")
	b.do(t, "miners", chromedp.Click(`//nav//a[text()="Miners"]`))
	b.waitText(t, "main", "1 registered")
	b.shot(t, "miners")
	b.audit(t, "miners")
	b.do(t, "a miner", chromedp.Click(chromedp.CSS(`main table tbody a`)), chromedp.WaitVisible(chromedp.CSS(`figure.chart canvas`)))
	b.waitText(t, ".metrics .totals", "2 jobs, 100.0 % ok")
	b.shot(t, "miner")
	b.audit(t, "miner")

	b.do(t, "blocks", chromedp.Click(`//nav//a[text()="Blocks"]`), chromedp.WaitVisible(chromedp.CSS(`#blocks tbody tr`)))
	first := b.text(t, "#blocks tbody tr td")
	// Blocks arrive live (an empty block every second on devnet).
	deadline := time.Now().Add(30 * time.Second)
	for b.text(t, "#blocks tbody tr td") == first {
		if time.Now().After(deadline) {
			t.Fatalf("no new block row after block %s", first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.shot(t, "blocks")
	b.audit(t, "blocks")
	var st apitype.Status
	ktGetJSON(t, url+"/v1/status", &st)
	var blk apitype.Block
	for h := st.LatestHeight; h > 0 && blk.NumTxs == 0; h-- { // the latest block with a transaction
		ktGetJSON(t, url+"/v1/blocks/"+strconv.FormatInt(h, 10), &blk)
	}
	b.do(t, "a block", chromedp.Navigate(url+"/blocks/"+strconv.FormatInt(blk.Height, 10)),
		chromedp.WaitVisible(chromedp.CSS(`main table a`)))
	b.do(t, "its tx", chromedp.Click(chromedp.CSS(`main table a`)))
	b.waitText(t, "main", blk.TxHashes[0])
	b.waitText(t, "main", "tx")
	b.shot(t, "tx")
	b.audit(t, "tx")
	b.do(t, "a missing page", chromedp.Navigate(url+"/no/such/page"))
	b.waitText(t, "main h1", "Not found")
}

// brRecords writes, reads and removes the records of webada (the browser
// key's ID) in the portal, private ones included, and exchanges private
// records with the CLI both ways.
func brRecords(t *testing.T, b *brSession, url, home string) {
	t.Helper()
	vm := func(args ...string) ktResult { return ktRun(t, home, append([]string{"--node", url}, args...)...) }
	if r := vm("gas", "faucet", "alice"); r.code != 0 {
		t.Fatalf("faucet alice: %s", r.stderr)
	}
	if r := vm("id", "create", "aliceid", "--from", "alice"); r.code != 0 {
		t.Fatalf("create aliceid: %s%s", r.stdout, r.stderr)
	}
	b.do(t, "ID page", chromedp.Navigate(url+"/ids/webada"), chromedp.WaitVisible(chromedp.CSS(`input[name=reckey]`)))
	var owner apitype.ID
	ktGetJSON(t, url+"/v1/ids/webada", &owner)
	before := ktAccount(t, url, owner.Owner)
	write := func(key, value, readers string, private bool) {
		t.Helper()
		b.do(t, "write "+key, fill(`input[name=reckey]`, key), fill(`textarea[name=recvalue]`, value), fill(`input[name=recreaders]`, readers),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("input[name=recprivate]").checked = `+strconv.FormatBool(private)),
			submit(`input[name=reckey]`))
	}
	for _, c := range []struct {
		key, value, readers string
		private             bool
		want                string
	}{
		{"bad key!", "x", "", false, "key: 1 to 128 characters"},
		{"phone", "1", "", true, "name at least one reader"},
		{"phone", "1", "nobody-here", true, "no ID named nobody-here"},
		{"phone", "1", "webada", false, "tick Private"},
		{"big", strings.Repeat("x", 5000), "", false, "at most 4096 bytes"},
	} {
		write(c.key, c.value, c.readers, c.private)
		b.waitText(t, "#rec-title ~ div .status.error", c.want)
	}
	if acc := ktAccount(t, url, owner.Owner); acc.Nonce != before.Nonce || acc.Balance != before.Balance {
		t.Fatalf("refused record forms changed the account: %+v, was %+v", acc, before)
	}
	write("email", "ada@example.org", "", false)
	b.waitText(t, `li[data-record="email"]`, "ada@example.org")
	write("phone", "+1 555 0100", "webada, aliceid", true)
	b.waitText(t, `li[data-record="phone"]`, "readers webada, aliceid")
	if r := vm("id", "get", "webada", "phone", "--decrypt", "--from", "alice"); r.code != 0 || !strings.Contains(r.stdout, "+1 555 0100") {
		t.Fatalf("the CLI reading the portal's private record: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b.do(t, "decrypt", chromedp.Click(chromedp.CSS(`li[data-record="phone"] button`)))
	b.waitText(t, `li[data-record="phone"] .plain`, "+1 555 0100")
	b.shot(t, "records")
	b.audit(t, "ID page")
	b.do(t, "remove email", chromedp.Click(`//li[@data-record="email"]//button[text()="Remove"]`))
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('li[data-record="email"]').length`))
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.shot(t, "failed-remove")
			t.Fatalf("email still listed after Remove; the page says %q", b.text(t, `li[data-record="email"]`))
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := http.Get(url + "/v1/ids/webada/records/email")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("removed record: GET %d, want 404", res.StatusCode)
	}

	// The CLI shares a record with webada; the portal reads it, and is
	// refused one it is not a reader of.
	if r := vm("id", "set", "aliceid", "secret=hello web", "--private", "--readers", "webada", "--from", "alice"); r.code != 0 {
		t.Fatalf("set aliceid secret: %s%s", r.stdout, r.stderr)
	}
	if r := vm("id", "set", "aliceid", "diary=not for web", "--private", "--readers", "aliceid", "--from", "alice"); r.code != 0 {
		t.Fatalf("set aliceid diary: %s%s", r.stdout, r.stderr)
	}
	b.do(t, "my chain", chromedp.Click(`//nav//a[text()="My chain"]`), chromedp.WaitVisible(chromedp.CSS(`input[name=sharedid]`)))
	b.waitText(t, "main ul", "webada")
	for _, c := range []struct{ id, key, want string }{{"Xavier", "secret", "only a-z"}, {"aliceid", "bad key!", "key: 1 to 128"}, {"aliceid", "nothing", "has no record"}} {
		b.do(t, "read "+c.id+"/"+c.key, fill(`input[name=sharedid]`, c.id), fill(`input[name=sharedkey]`, c.key), submit(`input[name=sharedid]`))
		b.waitText(t, "main .status.error", c.want)
	}
	b.do(t, "read shared", fill(`input[name=sharedid]`, "aliceid"), fill(`input[name=sharedkey]`, "secret"), submit(`input[name=sharedid]`))
	b.waitText(t, "#shared", "hello web")
	b.do(t, "read not shared", fill(`input[name=sharedkey]`, "diary"), submit(`input[name=sharedid]`))
	b.waitText(t, "main .status.error", "cannot decrypt")
	b.shot(t, "my-chain")
	b.audit(t, "my chain")
}

// brImport checks the portal's key import: bad files and passphrases are
// refused with a message and store nothing; the CLI's export of alice
// imports, under the address the CLI has.
func brImport(t *testing.T, b *brSession, home string) {
	t.Helper()
	dir := t.TempDir()
	notJSON, cliFile := filepath.Join(dir, "notes.txt"), filepath.Join(dir, "alice.key.json")
	if err := os.WriteFile(notJSON, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A CLI key file with a work factor the portal accepts (the tests'
	// keystore uses 1,000 rounds; vm keys add uses 600,000).
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.NewKeystore(filepath.Join(home, "keys"), crypto.MinIterations).Import("carol", k, "pw"); err != nil {
		t.Fatal(err)
	}
	if r := ktRun(t, home, "keys", "export", "carol", cliFile); r.code != 0 {
		t.Fatalf("vm keys export: %s", r.stderr)
	}
	for _, c := range []struct{ file, pass, want string }{
		{"", "pw", "choose a key file"},
		{notJSON, "pw", "not a key file"},
		{cliFile, "wrong", "wrong passphrase"},
	} {
		steps := []chromedp.Action[chromedp.Void]{fill(`input[name=importpass]`, c.pass)}
		if c.file != "" {
			steps = append(steps, chromedp.SetUploadFiles(chromedp.CSS(`input[name=keyfile]`), []string{c.file}))
		}
		b.do(t, "import "+c.want, append(steps, submit(`input[name=importpass]`))...)
		b.waitText(t, "main section:last-of-type .status.error", c.want)
	}
	b.do(t, "import", fill(`input[name=importpass]`, "pw"), chromedp.SetUploadFiles(chromedp.CSS(`input[name=keyfile]`), []string{cliFile}),
		submit(`input[name=importpass]`))
	b.waitText(t, "main section:last-of-type .status.ok", "Imported carol ("+k.Address().String()+")")
	b.waitText(t, `tr[data-key="carol"]`, k.Address().String())
	b.do(t, "use web again", chromedp.Click(`//tr[@data-key="web"]//button[text()="Use"]`))
	b.waitText(t, "#who", "web")
}

// brAllSigned finds every transaction the browser's key signed (faucet,
// ID create and record requests, transfer) and checks each is what the
// CLI's tx.Sign makes of the same body: the node's decoder accepts only
// canonical bytes, and re-signing the decoded body must give the exact
// bytes back.
func brAllSigned(t *testing.T, url string, key crypto.PrivKey, chainID string) {
	t.Helper()
	var st apitype.Status
	ktGetJSON(t, url+"/v1/status", &st)
	kinds := map[string]int{}
	for h := int64(1); h <= st.LatestHeight; h++ {
		var blk apitype.Block
		ktGetJSON(t, url+"/v1/blocks/"+strconv.FormatInt(h, 10), &blk)
		for _, hash := range blk.TxHashes {
			var got apitype.Tx
			ktGetJSON(t, url+"/v1/txs/"+hash, &got)
			raw, err := hex.DecodeString(got.Tx)
			if err != nil {
				t.Fatal(err)
			}
			s, err := tx.Decode(raw, chainID)
			if err != nil {
				t.Fatalf("tx %s: %v", hash, err)
			}
			if !bytes.Equal(s.PubKey, key.PubKey()) {
				continue
			}
			again, err := tx.Sign(s.Body, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, raw) {
				t.Errorf("tx %s: the browser's bytes differ from the CLI's for the same body", hash)
			}
			for _, m := range s.Body.Msgs {
				kinds[fmt.Sprintf("%T", m.Sum)]++
			}
		}
	}
	for _, k := range []string{"*txpb.Msg_Faucet", "*txpb.Msg_Request", "*txpb.Msg_Transfer"} {
		if kinds[k] == 0 {
			t.Errorf("no browser-signed %s found (have %v)", k, kinds)
		}
	}
}
