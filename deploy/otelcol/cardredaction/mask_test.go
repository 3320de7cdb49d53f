package cardredaction

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestMasksCardNumbersInTheShapesTheyAreWritten(t *testing.T) {
	for in, want := range map[string]string{
		"4111111111111111":                           Mask,
		"4111 1111 1111 1111":                        Mask,
		"4111-1111-1111-1111":                        Mask,
		"paid with 4111 1111 1111 1111 today":        "paid with " + Mask + " today",
		"(4111-1111-1111-1111)":                      "(" + Mask + ")",
		`{"pan":"378282246310005"}`:                  `{"pan":"` + Mask + `"}`,
		"amex 3782 822463 10005.":                    "amex " + Mask + ".",
		"diners 3056-930902-5904":                    "diners " + Mask,
		"13 digits 4222222222222":                    "13 digits " + Mask,
		"19 digits 6011 0000 0000 0000 001":          "19 digits " + Mask,
		"card-4111111111111111":                      "card-" + Mask,
		"a card and its cvv 4111 1111 1111 1111 123": "a card and its cvv " + Mask + " 123",
		"two: 4111111111111111, 5500 0000 0000 0004": "two: " + Mask + ", " + Mask,
		"é4111111111111111ü":                         "é" + Mask + "ü",
	} {
		got, changed := MaskCardNumbers(in)
		if got != want || !changed {
			t.Errorf("MaskCardNumbers(%q) = %q, %v; want %q, true", in, got, changed, want)
		}
	}
}

func TestLeavesIdentifiersAndOtherNumbersAlone(t *testing.T) {
	for _, in := range []string{
		// The order id of issue 16: its last two groups are all digits, and 8513 + 256339762056 passes Luhn.
		"ord_c29b6c95-36ac-4870-8513-256339762056",
		"order ord_c29b6c95-36ac-4870-8513-256339762056 executed",
		// A span id of 16 decimal digits that fails Luhn, alone, and a trace id of 32 decimal digits.
		"1234567890123456",
		"span 1234567890123456 ended",
		"41111111111111114111111111111111",
		// Glued to letters, digits or underscores: part of a longer token.
		"x4111111111111111", "4111111111111111x", "_4111111111111111", "41111111111111111",
		// Fails Luhn; no card shape; mixed separators; too short; too long.
		"4111111111111112", "12 34 56 78 90 12 34", "2026-11-25 12:00:00.123", "4111 1111-1111 1111",
		"+1 415 555 0100", "411111111111", "41111111111111111111",
		// Joined by a hyphen to a whole group of hex digits, as inside a UUID.
		"abcd-4111111111111111", "4111111111111111-beef", "c29b6c95-4111-1111-1111-1111",
		"",
	} {
		if got, changed := MaskCardNumbers(in); got != in || changed {
			t.Errorf("MaskCardNumbers(%q) = %q, %v; want it unchanged", in, got, changed)
		}
	}
}

func TestLuhnValid(t *testing.T) {
	for digits, want := range map[string]bool{
		"4111111111111111": true, "4111111111111112": false, "378282246310005": true, "79927398713": true,
		"79927398710": false, "0": true, "": true,
	} {
		if LuhnValid(digits) != want {
			t.Errorf("LuhnValid(%q) = %v", digits, !want)
		}
	}
}

// ---- properties, over generated identifiers and cards (as test/support/redaction-arbitraries.ts makes them) ----

const (
	digits   = "0123456789"
	hexDigit = "0123456789abcdef"
)

type gen struct{ *rand.Rand }

func (g gen) pick(options ...string) string { return options[g.IntN(len(options))] }

// of: n characters of the alphabet; idChar leans towards decimal digits, the ids most like card numbers.
func (g gen) of(n int, alphabet string) string {
	var b strings.Builder
	for range n {
		b.WriteByte(alphabet[g.IntN(len(alphabet))])
	}
	return b.String()
}

func (g gen) idChars(n int) string {
	var b strings.Builder
	for range n {
		if g.IntN(4) == 0 {
			b.WriteByte("abcdef"[g.IntN(6)])
		} else {
			b.WriteByte(digits[g.IntN(10)])
		}
	}
	return b.String()
}

func (g gen) uuid() string {
	switch g.IntN(3) {
	case 0:
		return strings.Join([]string{g.of(8, hexDigit), g.of(4, hexDigit), g.of(4, hexDigit), g.of(4, hexDigit), g.of(12, hexDigit)}, "-")
	case 1:
		return strings.Join([]string{g.idChars(8), g.idChars(4), g.idChars(4), g.idChars(4), g.idChars(12)}, "-")
	default: // issue 16: the last two groups all digits
		return strings.Join([]string{g.of(8, hexDigit), g.of(4, hexDigit), g.of(4, hexDigit), g.of(4, digits), g.of(12, digits)}, "-")
	}
}

func (g gen) spanID() string {
	switch g.IntN(3) {
	case 0:
		return g.of(16, hexDigit)
	case 1:
		return g.idChars(16)
	default:
		return g.of(16, digits)
	}
}

func (g gen) traceID() string {
	switch g.IntN(3) {
	case 0:
		return g.of(32, hexDigit)
	case 1:
		return g.idChars(32)
	default:
		return g.of(32, digits)
	}
}

// cardShaped: a span id of 16 decimal digits that passes Luhn is a card number as far as its text goes (1 span id
// in about 18,000). Standing alone it is masked, by the logger too: nothing can tell it from a card.
func cardShaped(id string) bool {
	return len(id) == 16 && digitsOf(id) == id && LuhnValid(id)
}

func (g gen) identifier() string {
	for {
		var id string
		switch g.IntN(4) {
		case 0:
			id = "ord_" + g.uuid()
		case 1:
			id = g.uuid()
		case 2:
			id = g.traceID()
		default:
			id = g.spanID()
		}
		if !cardShaped(id) {
			return id
		}
	}
}

// text: anything at all, from an alphabet rich in the characters that matter here.
func (g gen) text() string {
	return g.of(g.IntN(25), "0123456789abcdefxyzXYZ_- :=\"/(),.é")
}

func (g gen) joiner() string { return g.pick("", " ", "=", ":", `"`, "/", "-", ", ") }

var groupings = map[int][][]int{
	13: {{4, 4, 4, 1}}, 14: {{4, 4, 4, 2}, {4, 6, 4}}, 15: {{4, 4, 4, 3}, {4, 6, 5}}, 16: {{4, 4, 4, 4}},
	17: {{4, 4, 4, 4, 1}}, 18: {{4, 4, 4, 4, 2}}, 19: {{4, 4, 4, 4, 3}},
}

// card: Luhn-valid digits of a card's length, and how they are written (whole, or grouped with one separator).
func (g gen) card() (number, text string) {
	body := g.of(12+g.IntN(7), digits)
	for d := '0'; d <= '9'; d++ {
		if LuhnValid(body + string(d)) {
			number = body + string(d)
			break
		}
	}
	separator := g.pick("", " ", "-")
	if separator == "" {
		return number, number
	}
	options := groupings[len(number)]
	var groups []string
	at := 0
	for _, size := range options[g.IntN(len(options))] {
		groups = append(groups, number[at:at+size])
		at += size
	}
	return number, strings.Join(groups, separator)
}

var word = regexp.MustCompile(`\w`)

// standsAlone: the identifier is a token of its own in head+j1+id+j2+tail. Glued to letters or digits it is part
// of a longer token: a span id followed by "3" is a 17-digit number, which no redaction can tell from a card.
func standsAlone(head, j1, j2, tail string) bool {
	return !(j1 == "" && head != "" && word.MatchString(head[len(head)-1:])) && !(j2 == "" && tail != "" && word.MatchString(tail[:1]))
}

// seeded: a new seed each run (printed when a test fails); CARDREDACTION_SEED=<seed> repeats a run.
func seeded(t *testing.T) gen {
	seed := rand.Uint64()
	if s := os.Getenv("CARDREDACTION_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CARDREDACTION_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (CARDREDACTION_SEED=%d repeats this run)", seed, seed)
	return gen{rand.New(rand.NewPCG(seed, 16))}
}

func TestNeverAltersAnIdentifierWhateverSurroundsIt(t *testing.T) {
	g := seeded(t)
	for range 50_000 {
		id := g.identifier()
		if got, _ := MaskCardNumbers(id); got != id {
			t.Fatalf("the identifier %q became %q", id, got)
		}
		head, j1, j2, tail := g.text(), g.joiner(), g.joiner(), g.text()
		if !standsAlone(head, j1, j2, tail) {
			continue
		}
		in := head + j1 + id + j2 + tail
		if got, _ := MaskCardNumbers(in); !strings.Contains(got, j1+id+j2) {
			t.Fatalf("%q became %q: the identifier %q is not whole", in, got, id)
		}
	}
}

func TestDecimalSpanIdsThatFailLuhnComeThrough(t *testing.T) {
	g := seeded(t)
	for n := 0; n < 2_000; {
		id := g.of(16, digits)
		if LuhnValid(id) {
			continue
		}
		n++
		for _, in := range []string{id, "span " + id + " ended", "span_id=" + id, `"` + id + `"`} {
			if got, changed := MaskCardNumbers(in); got != in || changed {
				t.Fatalf("%q became %q", in, got)
			}
		}
	}
}

func TestAlwaysMasksALuhnValidCardNumber(t *testing.T) {
	g := seeded(t)
	for range 50_000 {
		number, text := g.card()
		before := g.pick("", "card ", "pan=", "(", `"`, "number: ", "card-")
		after := g.pick("", " seen", ")", ",", ".", `"`, " 123")
		if got, _ := MaskCardNumbers(text); got != Mask {
			t.Fatalf("%q became %q", text, got)
		}
		in := before + text + after
		got, _ := MaskCardNumbers(in)
		// A short group after a card (" 123") may be taken for a 19-digit card's last group: masked with it.
		if !strings.HasPrefix(got, before+Mask) || strings.Contains(got, text) || strings.Contains(strings.NewReplacer(" ", "", "-", "").Replace(got), number) {
			t.Fatalf("%q became %q", in, got)
		}
		// Next to an identifier, the card goes and the identifier stays.
		id := "ord_" + g.uuid()
		if got, _ := MaskCardNumbers(fmt.Sprintf("order %s paid with %s", id, text)); got != fmt.Sprintf("order %s paid with %s", id, Mask) {
			t.Fatalf("order %s paid with %s became %q", id, text, got)
		}
	}
}
