package importer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Source is where an import reads accounts from. Each calls fn for every
// account in source order; bad is set when the account is already known to
// be unimportable (fn reports it and goes on). An error from Each itself is
// fatal (for example a malformed line): it names where. Each may be called
// several times (the import makes several passes).
type Source interface {
	// Name identifies the source ("escargot:<file>", "lists:<file>").
	Name() string
	// Count is the number of accounts, -1 when not known yet.
	Count() int
	// Each walks the accounts; where names each one for reports
	// ("line 12", "t_user id 7").
	Each(ctx context.Context, fn func(d *AccountDoc, where string, bad error) error) error
}

// listsSource reads the JSON-lines format from a file, one account a line.
type listsSource struct {
	path  string
	count int
	tmp   bool
}

// OpenLists opens a lists-format file; "-" spools standard input (r) to a
// temporary file first, since the import reads its source more than once.
// The returned close function removes that file.
func OpenLists(path string, stdin io.Reader) (Source, func(), error) {
	s := &listsSource{path: path, count: -1}
	if path == "-" {
		f, err := os.CreateTemp("", "abch-import-*.jsonl")
		if err != nil {
			return nil, nil, err
		}
		if _, err := io.Copy(f, stdin); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, nil, fmt.Errorf("reading standard input: %w", err)
		}
		f.Close()
		s.path, s.tmp = f.Name(), true
	} else if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("lists source: %w", err)
	}
	return s, func() {
		if s.tmp {
			os.Remove(s.path)
		}
	}, nil
}

// Name identifies the source in summaries and import_state.
func (s *listsSource) Name() string {
	if s.tmp {
		return "lists:-"
	}
	return "lists:" + s.path
}

// Count is the number of accounts (-1 before the first pass for a file).
func (s *listsSource) Count() int { return s.count }

// Each calls fn for every account in source order (see Source).
func (s *listsSource) Each(ctx context.Context, fn func(d *AccountDoc, where string, bad error) error) error {
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	n, count := 0, 0
	name := s.path
	if s.tmp {
		name = "standard input"
	}
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			n++
			if err := ctx.Err(); err != nil {
				return err
			}
			if t := bytes.TrimSpace(line); len(t) > 0 {
				count++
				d, perr := ParseLine(t)
				if perr != nil {
					return fmt.Errorf("%s line %d: %v", name, n, perr)
				}
				if err := fn(d, fmt.Sprintf("line %d", n), nil); err != nil {
					return err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s line %d: %w", name, n+1, err)
		}
	}
	s.count = count
	return nil
}
