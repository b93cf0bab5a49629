import Foundation

/// BERT's uncased basic tokenizer, matching Hugging Face's `BertNormalizer` + `BertPreTokenizer`:
/// drop control characters, map whitespace to spaces, put spaces around CJK ideographs, strip
/// accents (NFD, drop non-spacing marks), lowercase, then split on whitespace and punctuation.
/// Works on Unicode scalars (as the reference does), never on grapheme clusters.
struct BasicTokenizer: Sendable {
    /// Splits `text` into lowercase, accent-free words and single punctuation marks.
    func split(_ text: String) -> [String] {
        var normalized = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                normalized.append(" ")
            } else if Self.isCJK(scalar) {
                normalized.append(" ")
                normalized.append(scalar)
                normalized.append(" ")
            } else {
                normalized.append(scalar)
            }
        }
        // NFD then drop Mn (strip accents), then lowercase scalar by scalar (no context rules),
        // as the reference normalizer does.
        let decomposed = String(normalized).decomposedStringWithCanonicalMapping
        var lowered = String.UnicodeScalarView()
        for scalar in decomposed.unicodeScalars where scalar.properties.generalCategory != .nonspacingMark {
            lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
        }
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
        }
        for scalar in lowered {
            if Self.isWhitespace(scalar) {
                flush()
            } else if Self.isPunctuation(scalar) {
                flush()
                words.append(String(Character(scalar)))
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Unicode "Other" categories (Cc, Cf, Cn, Co, Cs) except tab, newline and carriage return.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// ASCII non-alphanumerics count as punctuation (BERT treats `$`, `+`, `^` etc. as such) plus every Unicode P* category.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT isolates (not Hangul, Hiragana or Katakana).
    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
            0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }
}
