package api

// Routes lists the "METHOD /path" patterns the server registers, for the
// OpenAPI coverage test.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.table() {
		out = append(out, r.method+" "+r.path)
	}
	return out
}
