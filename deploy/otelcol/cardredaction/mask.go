package cardredaction

import "strings"

// Mask replaces a card number: what the services' logger writes in its place (src/platform/redaction.ts).
const Mask = "[redacted]"

// The rules are the logger's (src/platform/redaction.ts), so a value is masked alike in a service's log line and
// in the collector. A card number is
//
//   - 13–19 digits that pass the Luhn check,
//   - written whole or in a card's grouping with one kind of separator, a space or a hyphen: 4-4-4-4-1…3,
//     4-4-4-1…4 or 4-6-4…5, tried in that order, the last group as long as it can be,
//   - standing alone: not touching a letter, digit or underscore on either side, and not joined by a hyphen to a
//     whole group of hex digits (a piece of a UUID such as ord_c29b6c95-36ac-4870-8513-256339762056, whose last
//     groups can be all digits).
//
// The logger writes this as one JavaScript regular expression with lookarounds and a backreference; RE2 has
// neither, which is why this is code and not a pattern in the collector's config. Like the regular expression,
// the scan takes the leftmost candidate, and moves on past a candidate that fails the Luhn check rather than
// looking inside it.

type group struct{ min, max int }

// shapes, longest grouping first, so a 19-digit grouping is not taken for its first 16 digits.
var shapes = [][]group{
	{{4, 4}, {4, 4}, {4, 4}, {4, 4}, {1, 3}},
	{{4, 4}, {4, 4}, {4, 4}, {1, 4}},
	{{4, 4}, {6, 6}, {4, 5}},
	{{13, 19}},
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

// isWord: a character that makes a token longer (ASCII only, as in the logger; every byte of a multi-byte
// UTF-8 character is outside these ranges).
func isWord(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '_'
}

// mayStartAt: s[i:] may begin a card number as far as what comes before it goes.
func mayStartAt(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := s[i-1]
	if isWord(c) {
		return false
	}
	if c != '-' {
		return true
	}
	// Hyphen: refused after a whole group of hex digits (one that starts the value or follows a non-word character).
	k := i - 1
	for k > 0 && isHex(s[k-1]) {
		k--
	}
	if k == i-1 {
		return true
	}
	return k > 0 && isWord(s[k-1])
}

// mayEndAt: a card number may end right before s[e], as far as what follows it goes.
func mayEndAt(s string, e int) bool {
	if e == len(s) {
		return true
	}
	c := s[e]
	if isWord(c) {
		return false
	}
	if c != '-' {
		return true
	}
	// Hyphen: refused before a whole group of hex digits (one that ends the value or is followed by a non-word character).
	k := e + 1
	for k < len(s) && isHex(s[k]) {
		k++
	}
	if k == e+1 {
		return true
	}
	return k < len(s) && isWord(s[k])
}

// matchGroups matches groups from s[pos:], each after the separator sep (0: not chosen yet, the first one found
// is then required throughout), and returns where the match ends. Longer groups are tried first.
func matchGroups(s string, pos int, groups []group, sep byte) (int, bool) {
	g := groups[0]
	n := 0
	for n < g.max && pos+n < len(s) && isDigit(s[pos+n]) {
		n++
	}
	for count := n; count >= g.min; count-- {
		end := pos + count
		if len(groups) == 1 {
			if mayEndAt(s, end) {
				return end, true
			}
			continue
		}
		if end >= len(s) {
			continue
		}
		next := sep
		if next == 0 && (s[end] == ' ' || s[end] == '-') {
			next = s[end]
		}
		if next == 0 || s[end] != next {
			continue
		}
		if e, ok := matchGroups(s, end+1, groups[1:], next); ok {
			return e, true
		}
	}
	return 0, false
}

// candidateAt returns the end of the card-shaped number that starts at s[i], if one does.
func candidateAt(s string, i int) (int, bool) {
	if !isDigit(s[i]) || !mayStartAt(s, i) {
		return 0, false
	}
	for _, shape := range shapes {
		if end, ok := matchGroups(s, i, shape, 0); ok {
			return end, true
		}
	}
	return 0, false
}

// LuhnValid reports whether the decimal digits pass the Luhn (mod 10) check every payment card number passes.
func LuhnValid(digits string) bool {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// replacement is what a card-shaped candidate becomes, and whether it is masked at all.
func replacement(candidate string) (string, bool) {
	if LuhnValid(digitsOf(candidate)) {
		return Mask, true
	}
	// A 4-4-4-4 card followed by a short group (its CVV, say) is still a card: "dddd dddd dddd dddd" is 19 bytes.
	if strings.Count(candidate, " ")+strings.Count(candidate, "-") == 4 && LuhnValid(digitsOf(candidate[:19])) {
		return Mask + candidate[19:], true
	}
	return candidate, false
}

// MaskCardNumbers returns s with every card number in it masked, and whether there was one; everything else is
// left exactly as it was.
func MaskCardNumbers(s string) (string, bool) {
	if !mayHoldCard(s) {
		return s, false
	}
	var out strings.Builder
	last, changed := 0, false
	for i := 0; i < len(s); {
		end, ok := candidateAt(s, i)
		if !ok {
			i++
			continue
		}
		if masked, ok := replacement(s[i:end]); ok {
			out.WriteString(s[last:i])
			out.WriteString(masked)
			last, changed = end, true
		}
		i = end
	}
	if !changed {
		return s, false
	}
	out.WriteString(s[last:])
	return out.String(), true
}

// mayHoldCard: at least 13 digits in all (most attribute values have far fewer, and are passed over at once).
func mayHoldCard(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			if n++; n >= 13 {
				return true
			}
		}
	}
	return false
}
