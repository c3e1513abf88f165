package msnp

// List bits: the wire values of the l= attribute of an ADL/RML/FQY <c>
// element (PROTOCOL.md §4.2), which are also the bits of the NS API's lists
// bitmask (nsclient.ListEntry.Lists). The codec keeps its own copy: it
// imports nothing from the project but models.
const (
	ListFL = 1  // Forward List: the contacts a user has added
	ListAL = 2  // Allow List
	ListBL = 4  // Block List
	ListRL = 8  // Reverse List: who has the user on their FL (server-sent)
	ListPL = 16 // Pending List: who added the user, awaiting an answer (server-sent)
)
