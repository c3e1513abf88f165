package msnp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	guidC = "9f0c3b2a-1d4e-4f60-8a7b-0c1d2e3f4a5b"
	guidG = "4c1e0000-aaaa-bbbb-cccc-0123456789ab"
)

func code(err error) int {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

func TestParseADD(t *testing.T) {
	t.Run("pidgin 2.2.2's FL add with a group", func(t *testing.T) {
		op, err := ParseADD(strings.Fields("FL bob@example.com bob@example.com 0"))
		if err != nil {
			t.Fatal(err)
		}
		want := ListOp{List: "FL", Email: "bob@example.com", Nick: "bob@example.com", NickArg: "bob@example.com", Group: "0"}
		if op != want {
			t.Errorf("%+v", op)
		}
	})
	t.Run("nick is URL-decoded and kept as sent", func(t *testing.T) {
		op, err := ParseADD(strings.Fields("AL bob@example.com Bob%20%26%20Co"))
		if err != nil || op.Nick != "Bob & Co" || op.NickArg != "Bob%20%26%20Co" || op.Group != "" {
			t.Errorf("%+v %v", op, err)
		}
	})
	t.Run("a missing nick takes the address", func(t *testing.T) {
		op, err := ParseADD([]string{"BL", "bob@example.com"})
		if err != nil || op.Nick != "bob@example.com" {
			t.Errorf("%+v %v", op, err)
		}
	})
	for _, tc := range []struct {
		name string
		args string
		code int
	}{
		{"RL is the server's list: 201", "RL bob@example.com bob", 201},
		{"an unknown list: 201", "XL bob@example.com bob", 201},
		{"an address without @: 208", "FL bob bob 0", 208},
		{"a group id that is not a number: 201", "FL bob@example.com bob x", 201},
		{"a negative group id: 201", "FL bob@example.com bob -1", 201},
		{"a group on AL: 201", "AL bob@example.com bob 0", 201},
		{"a nick that decodes to a control character: 209", "FL bob@example.com a%0Ab 0", 209},
		{"too few arguments: 200", "FL", 200},
		{"too many arguments: 200", "FL a@b.c n 0 1", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseADD(strings.Fields(tc.args)); code(err) != tc.code {
				t.Errorf("%v, want %d", err, tc.code)
			}
		})
	}
}

func TestParseADC(t *testing.T) {
	t.Run("FL by address with a friendly name", func(t *testing.T) {
		op, err := ParseADC([]string{"FL", "N=bob@example.com", "F=Bob"})
		if err != nil || op.Email != "bob@example.com" || op.Nick != "Bob" || op.GUID != "" {
			t.Errorf("%+v %v", op, err)
		}
	})
	t.Run("FL contact into a group by guids", func(t *testing.T) {
		op, err := ParseADC([]string{"FL", "C=" + guidC, guidG})
		if err != nil || op.GUID != guidC || op.Group != guidG || op.Email != "" {
			t.Errorf("%+v %v", op, err)
		}
	})
	t.Run("AL by address", func(t *testing.T) {
		op, err := ParseADC([]string{"AL", "N=bob@example.com"})
		if err != nil || op.List != "AL" || op.Email != "bob@example.com" {
			t.Errorf("%+v %v", op, err)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"C= on AL: 201", []string{"AL", "C=" + guidC, guidG}, 201},
		{"C= without a group: 201", []string{"FL", "C=" + guidC}, 201},
		{"C= with a bad guid: 201", []string{"FL", "C=xyz", guidG}, 201},
		{"a bad group guid: 201", []string{"FL", "C=" + guidC, "1"}, 201},
		{"neither N= nor C=: 201", []string{"FL", "bob@example.com"}, 201},
		{"F= on BL: 201", []string{"BL", "N=bob@example.com", "F=x"}, 201},
		{"RL: 201", []string{"RL", "N=bob@example.com"}, 201},
		{"a bad address: 208", []string{"FL", "N=bob@", "F=x"}, 208},
		{"one argument: 200", []string{"FL"}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseADC(tc.args); code(err) != tc.code {
				t.Errorf("%v, want %d", err, tc.code)
			}
		})
	}
}

func TestParseREM(t *testing.T) {
	t.Run("MSNP9 FL by address from group 0 (pidgin 2.2.2)", func(t *testing.T) {
		op, err := ParseREM(strings.Fields("FL bob@example.com 0"), 9)
		if err != nil || op.Email != "bob@example.com" || op.Group != "0" || op.GUID != "" {
			t.Errorf("%+v %v", op, err)
		}
	})
	t.Run("MSNP10 FL by guid", func(t *testing.T) {
		op, err := ParseREM([]string{"FL", guidC}, 10)
		if err != nil || op.GUID != guidC || op.Email != "" {
			t.Errorf("%+v %v", op, err)
		}
	})
	t.Run("PL by address (decline)", func(t *testing.T) {
		op, err := ParseREM([]string{"PL", "bob@example.com"}, 12)
		if err != nil || op.List != "PL" || op.Email != "bob@example.com" {
			t.Errorf("%+v %v", op, err)
		}
	})
	for _, tc := range []struct {
		name    string
		args    []string
		version int
		code    int
	}{
		{"RL: 201", []string{"RL", "bob@example.com"}, 9, 201},
		{"MSNP10 FL by address: 201", []string{"FL", "bob@example.com"}, 10, 201},
		{"MSNP9 group guid: 201", []string{"FL", "bob@example.com", guidG}, 9, 201},
		{"MSNP11 integer group: 201", []string{"FL", guidC, "3"}, 11, 201},
		{"a group on AL: 201", []string{"AL", "bob@example.com", "0"}, 9, 201},
		{"a bad address: 208", []string{"BL", "bob"}, 9, 208},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseREM(tc.args, tc.version); code(err) != tc.code {
				t.Errorf("%v, want %d", err, tc.code)
			}
		})
	}
}

func TestListAnswers(t *testing.T) {
	line := func(name string, args []string) string {
		return string(AppendLine(nil, name, args...))
	}
	cases := []struct{ got, want string }{
		{line("ADD", ADDArgs("8", "FL", 12, "bob@example.com", "bob@example.com", "0")), "ADD 8 FL 12 bob@example.com bob@example.com 0\r\n"},
		{line("ADD", ADDArgs("9", "AL", 13, "bob@example.com", "Bob", "")), "ADD 9 AL 13 bob@example.com Bob\r\n"},
		{line("ADC", ADCArgs("5", ListOp{List: "FL", Email: "bob@example.com", NickArg: "Bob"}, guidC)), "ADC 5 FL N=bob@example.com F=Bob C=" + guidC + "\r\n"},
		{line("ADC", ADCArgs("6", ListOp{List: "FL", GUID: guidC, Group: guidG}, guidC)), "ADC 6 FL C=" + guidC + " " + guidG + "\r\n"},
		{line("ADC", ADCArgs("7", ListOp{List: "BL", Email: "bob@example.com"}, "")), "ADC 7 BL N=bob@example.com\r\n"},
		{line("REM", REMArgs(9, "8", "FL", 14, "bob@example.com", "0")), "REM 8 FL 14 bob@example.com 0\r\n"},
		{line("REM", REMArgs(11, "8", "FL", 14, guidC, "")), "REM 8 FL " + guidC + "\r\n"},
		{line("ADG", ADGArgs(9, "10", 15, "Work%20mates", "3")), "ADG 10 15 Work%20mates 3 0\r\n"},
		{line("ADG", ADGArgs(12, "10", 15, "Work%20mates", guidG)), "ADG 10 Work%20mates " + guidG + "\r\n"},
		{line("RMG", RMGArgs(8, "11", 16, "3")), "RMG 11 16 3\r\n"},
		{line("RMG", RMGArgs(10, "11", 16, guidG)), "RMG 11 " + guidG + "\r\n"},
		{line("REG", REGArgs(9, "12", 17, "3", "Mates")), "REG 12 17 3 Mates 0\r\n"},
		{line("REG", REGArgs(11, "12", 17, guidG, "Mates")), "REG 12 " + guidG + " Mates\r\n"},
		{line("REA", REAArgs("13", 18, "me@example.com", "Me%20Too")), "REA 13 18 me@example.com Me%20Too\r\n"},
		{line("BLP", SettingArgs(9, "14", 19, "BL")), "BLP 14 19 BL\r\n"},
		{line("GTC", SettingArgs(10, "15", 19, "N")), "GTC 15 N\r\n"},
		{string(AppendReverseAdded(nil, 9, 20, "alice@example.com", "Alice A")), "ADD 0 RL 20 alice@example.com Alice%20A\r\n"},
		{string(AppendReverseAdded(nil, 8, 20, "alice@example.com", "")), "ADD 0 RL 20 alice@example.com alice%40example.com\r\n"},
		{string(AppendReverseAdded(nil, 12, 0, "alice@example.com", "Alice A")), "ADC 0 RL N=alice@example.com F=Alice%20A\r\n"},
		{string(AppendReverseRemoved(nil, 9, 21, "alice@example.com")), "REM 0 RL 21 alice@example.com\r\n"},
		{string(AppendReverseRemoved(nil, 10, 21, "alice@example.com")), "REM 0 RL alice@example.com\r\n"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q\nwant %q", c.got, c.want)
		}
	}
}

func TestGroupNames(t *testing.T) {
	if n, ok := GroupNumber("0"); !ok || n != 0 {
		t.Error("0")
	}
	if n, ok := GroupNumber("42"); !ok || n != 42 {
		t.Error("42")
	}
	for _, bad := range []string{"", "01", "-1", "1x", "1234567"} {
		if _, ok := GroupNumber(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if s, err := DecodeGroupName("Friends%20%26%20Family"); err != nil || s != "Friends & Family" {
		t.Errorf("%q %v", s, err)
	}
	for _, bad := range []string{"", "%zz", "a%0Ab", "%FF"} {
		if _, err := DecodeGroupName(bad); code(err) != ErrInvalidParameter {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if !reflect.DeepEqual(withVersion(9, "1", 2, "x"), []string{"1", "2", "x"}) {
		t.Error("withVersion")
	}
}

// FuzzListArgs feeds arbitrary argument lists to the list command parsers:
// they never panic, refuse with 200, 201, 208 or 209 only, and what they accept
// is echoed in answers that stay one line (no argument carries a space or
// a control character) and parse back to the same operation.
func FuzzListArgs(f *testing.F) {
	for _, s := range []string{
		"FL bob@example.com bob@example.com 0", "AL bob@example.com Bob%20B", "BL a@b.cd",
		"FL N=bob@example.com F=Bob", "FL C=" + guidC + " " + guidG, "PL bob@example.com",
		"FL " + guidC + " " + guidG, "FL bob@example.com a%0Ab 0", "RL x@y.zz n", "FL a@b.c n 0 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, " ")
		check := func(what string, op ListOp, err error) bool {
			if err != nil {
				if c := code(err); c != ErrSyntax && c != ErrInvalidParameter && c != ErrInvalidUsername && c != ErrInvalidFriendly {
					t.Fatalf("%s %q: error %v", what, line, err)
				}
				return false
			}
			for _, a := range []string{op.List, op.Email, op.GUID, op.NickArg, op.Group} {
				if strings.ContainsAny(a, " \r\n\t\x00") {
					t.Fatalf("%s %q: accepted argument %q", what, line, a)
				}
			}
			return true
		}
		if op, err := ParseADD(args); check("ADD", op, err) {
			ans := string(AppendLine(nil, "ADD", ADDArgs("1", op.List, 7, op.Email, op.NickArg, op.Group)...))
			if strings.Count(ans, "\r\n") != 1 {
				t.Fatalf("ADD answer %q", ans)
			}
			f := strings.Fields(strings.TrimSuffix(ans, "\r\n"))
			back, err := ParseADD(append([]string{f[2]}, f[4:]...))
			if err != nil || back != op {
				t.Fatalf("ADD %q: %+v does not parse back from %q: %+v %v", line, op, ans, back, err)
			}
		}
		op, err := ParseADC(args)
		check("ADC", op, err)
		for _, v := range []int{MSNP9, MSNP11} {
			op, err := ParseREM(args, v)
			if check("REM", op, err) {
				ans := string(AppendLine(nil, "REM", REMArgs(v, "1", op.List, 7, op.Email+op.GUID, op.Group)...))
				if strings.Count(ans, "\r\n") != 1 {
					t.Fatalf("REM answer %q", ans)
				}
			}
		}
	})
}
