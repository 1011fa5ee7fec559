// Package archtest holds the tests that keep the tree's shape: imports
// point one way (DESIGN.md §3), only the named packages import wazero and
// CometBFT, and every package has exactly one package comment.
package archtest
