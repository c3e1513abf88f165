package store

import (
	"sync"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
)

// keepAllocatorPages keeps one block of every slot size of the embedded
// database's C allocator allocated for the life of the process.
//
// The pure-Go SQLite allocates through modernc.org/libc, whose allocator
// (modernc.org/memory) carves blocks of each power-of-two size out of 1 MiB
// mappings and unmaps a mapping as soon as its last block is freed. Reading
// a stored answer (internal/store/stored_answers.go) copies its body, 30–100
// KB, into one such block and frees it when the statement ends: with no
// other block of that size alive, every read mapped 1 MiB, faulted its pages
// in and unmapped it again (mmap, munmap and the TLB shootdowns of munmap
// were ~15 % of serving a stored answer, issue 19). One block kept per size
// keeps its mapping alive, and the reads reuse it. The blocks cost ~512 KiB
// once; sizes above 256 KiB are always mapped per allocation by the
// allocator and are not helped.
var keepAllocatorPages = sync.OnceFunc(func() {
	tls := libc.NewTLS() // never closed: the blocks live as long as the process
	for log := 4; log <= 18; log++ {
		libc.Xmalloc(tls, types.Size_t(1)<<log)
	}
})
