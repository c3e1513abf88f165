package ns

import "testing"

// TestGroupIDs: the integer group ids an MSNP8–9 session sends stay the
// same for the session, take the NS API's SYN ids when they are free, and
// are never given out twice.
func TestGroupIDs(t *testing.T) {
	t.Run("the API's ids are used, groups without one get the next free id", func(t *testing.T) {
		u := &user{}
		got := u.mapGroups([]groupRef{{"g-a", 0}, {"g-b", 3}, {"g-c", 1}})
		if got[0] != 4 || got[1] != 3 || got[2] != 1 {
			t.Fatalf("%v", got)
		}
	})
	t.Run("a later SYN keeps the ids already sent", func(t *testing.T) {
		u := &user{}
		u.mapGroups([]groupRef{{"g-a", 0}, {"g-b", 0}})
		got := u.mapGroups([]groupRef{{"g-b", 7}, {"g-new", 0}, {"g-a", 1}})
		if got[0] != 2 || got[1] != 3 || got[2] != 1 {
			t.Fatalf("%v", got)
		}
	})
	t.Run("an added group takes a free API id or the next one; ids are not reused", func(t *testing.T) {
		u := &user{}
		u.mapGroups([]groupRef{{"g-a", 1}, {"g-b", 2}})
		if id := u.addGroup("g-c", 5); id != 5 {
			t.Fatalf("free API id: %d", id)
		}
		if id := u.addGroup("g-d", 1); id != 6 {
			t.Fatalf("taken API id: %d", id)
		}
		if id := u.addGroup("g-c", 9); id != 5 {
			t.Fatalf("known group renumbered: %d", id)
		}
		u.removeGroup(6)
		if _, ok := u.groupGUID(6); ok {
			t.Fatal("removed id still maps")
		}
		if id := u.addGroup("g-e", 0); id != 7 {
			t.Fatalf("after a removal: %d", id)
		}
	})
	t.Run("id 0 is the no-group pseudo-group, unknown ids are not", func(t *testing.T) {
		u := &user{}
		if g, ok := u.groupGUID(0); !ok || g != "" {
			t.Fatalf("%q %v", g, ok)
		}
		if _, ok := u.groupGUID(3); ok {
			t.Fatal("unknown id maps")
		}
		u.mapGroups([]groupRef{{"g-a", 3}})
		if g, ok := u.groupGUID(3); !ok || g != "g-a" {
			t.Fatalf("%q %v", g, ok)
		}
	})
}
