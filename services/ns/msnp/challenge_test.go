package msnp

import (
	"strings"
	"testing"
)

func TestQRYHash(t *testing.T) {
	t.Run("published MSNP11 example gives its answer", func(t *testing.T) {
		got := QRYHash("22210219642164014968", "PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL")
		if want := "85ecb0db8f32113df79ce0892b9a102c"; got != want {
			t.Fatalf("QRYHash = %s, want %s", got, want)
		}
	})
	t.Run("pidgin 2.4.3 capture answer matches", func(t *testing.T) {
		// clients/captures/pidgin-2.4.3-msnp13-*/ns.log: CHL 0 16687012172422803371,
		// QRY 11 PROD01065C%ZFN6F 32 / 2ada42d2d32e90d908ce8bc4ad9be544.
		ok, known := CheckQRY("16687012172422803371", "PROD01065C%ZFN6F", "2ada42d2d32e90d908ce8bc4ad9be544")
		if !ok || !known {
			t.Fatalf("CheckQRY = %v, %v", ok, known)
		}
	})
}

func TestCheckQRY(t *testing.T) {
	ans := QRYHash("17229538722924476219", "PROD0119GSJUC$18", "ILTXC!4IXB5FB*PX")
	t.Run("right answer, any case, passes", func(t *testing.T) {
		for _, a := range []string{ans, " " + ans + " ", strings.ToUpper(ans)} {
			if ok, known := CheckQRY("17229538722924476219", "PROD0119GSJUC$18", a); !ok || !known {
				t.Errorf("CheckQRY(%q) = %v, %v", a, ok, known)
			}
		}
	})
	t.Run("answer computed with another product's key fails", func(t *testing.T) {
		other := QRYHash("17229538722924476219", "PROD0119GSJUC$18", "O4BG@C7BWLYQX?5G")
		if ok, _ := CheckQRY("17229538722924476219", "PROD0119GSJUC$18", other); ok {
			t.Error("wrong key accepted")
		}
		if ok, _ := CheckQRY("17229538722924476218", "PROD0119GSJUC$18", ans); ok {
			t.Error("answer to another challenge accepted")
		}
	})
	t.Run("unknown product is reported", func(t *testing.T) {
		if ok, known := CheckQRY("1", "PRODXXXX", ans); ok || known {
			t.Errorf("unknown product: %v %v", ok, known)
		}
	})
}
