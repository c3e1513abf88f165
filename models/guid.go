package models

// IsGUID reports whether s is a GUID in the bare 8-4-4-4-12 form,
// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", in hex digits of either case:
// the Address Book's msnab:Guid (contact and group ids) and, in braces,
// the NS's MachineGuid.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
