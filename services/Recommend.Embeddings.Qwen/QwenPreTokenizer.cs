using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Recommend.Embeddings.Qwen;

/// <summary>
/// Hand-written equivalent of the Qwen2/Qwen3 pre-tokenizer regex
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// as Hugging Face's tokenizer (Oniguruma) evaluates it: leftmost-first alternation over Unicode scalars.
/// .NET's regex works on UTF-16 code units, so its \p{L}/\p{N} miss astral letters and digits (𝐀, 𝟘);
/// scanning <see cref="Rune"/>s fixes that and is faster than a regex.
/// </summary>
public sealed class QwenPreTokenizer : PreTokenizer
{
    public static QwenPreTokenizer Instance { get; } = new();

    private enum ScalarClass : byte { Letter, Number, LineBreak, Space, Other }

    private static readonly ScalarClass[] AsciiClasses = BuildAsciiClasses();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        text is null ? [] : Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    /// <summary>Pre-token boundaries as (offset, length) in UTF-16 code units.</summary>
    public static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int, int)>(text.Length / 4 + 1);
        var i = 0;
        while (i < text.Length)
        {
            var end = MatchAt(text, i);
            pieces.Add((i, end - i));
            i = end;
        }
        return pieces;
    }

    /// <summary>End (exclusive) of the regex match starting at <paramref name="start"/>; the alternatives in regex order.</summary>
    private static int MatchAt(ReadOnlySpan<char> text, int start)
    {
        var contraction = ContractionLength(text, start);
        if (contraction > 0) return start + contraction;

        var (first, firstLength) = Classify(text, start);
        var next = start + firstLength;

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (first == ScalarClass.Letter) return SkipRun(text, next, ScalarClass.Letter);
        if (first is ScalarClass.Space or ScalarClass.Other && next < text.Length && Classify(text, next).Class == ScalarClass.Letter)
            return SkipRun(text, next, ScalarClass.Letter);

        // \p{N}
        if (first == ScalarClass.Number) return next;

        // ' ?[^\s\p{L}\p{N}]+[\r\n]*' — only a literal space may lead, not other whitespace.
        var symbolStart = text[start] == ' ' ? next : start;
        if (symbolStart < text.Length && Classify(text, symbolStart).Class == ScalarClass.Other)
        {
            var symbolsEnd = SkipRun(text, symbolStart, ScalarClass.Other);
            while (symbolsEnd < text.Length && text[symbolsEnd] is '\r' or '\n') symbolsEnd++;
            return symbolsEnd;
        }

        // Whitespace: every remaining case starts with \s (all whitespace scalars are single UTF-16 units).
        var runEnd = start;
        var lastLineBreak = -1;
        while (runEnd < text.Length && Classify(text, runEnd).Class is ScalarClass.Space or ScalarClass.LineBreak)
        {
            if (text[runEnd] is '\r' or '\n') lastLineBreak = runEnd;
            runEnd++;
        }
        if (lastLineBreak >= 0) return lastLineBreak + 1;          // \s*[\r\n]+ backtracks to the last line break
        if (runEnd == text.Length || runEnd - start == 1) return runEnd; // \s+(?!\S) at the end, or \s+
        return runEnd - 1;                                          // \s+(?!\S) leaves one space for the next word
    }

    /// <summary>(?i:'s|'t|'re|'ve|'m|'ll|'d): Oniguruma's case folding also maps U+017F (long s) to s.</summary>
    private static int ContractionLength(ReadOnlySpan<char> text, int start)
    {
        if (text[start] != '\'' || start + 1 >= text.Length) return 0;
        var a = text[start + 1];
        if (a is 's' or 'S' or 't' or 'T' or 'm' or 'M' or 'd' or 'D' or '\u017F') return 2;
        if (start + 2 >= text.Length) return 0;
        var b = char.ToLowerInvariant(text[start + 2]);
        return (char.ToLowerInvariant(a), b) switch
        {
            ('r', 'e') or ('v', 'e') or ('l', 'l') => 3,
            _ => 0,
        };
    }

    private static int SkipRun(ReadOnlySpan<char> text, int index, ScalarClass runClass)
    {
        while (index < text.Length)
        {
            var (cls, length) = Classify(text, index);
            if (cls != runClass) break;
            index += length;
        }
        return index;
    }

    private static (ScalarClass Class, int Length) Classify(ReadOnlySpan<char> text, int index)
    {
        var c = text[index];
        if (c < 128) return (AsciiClasses[c], 1);
        if (Rune.DecodeFromUtf16(text[index..], out var rune, out var length) != OperationStatus.Done)
            return (ScalarClass.Other, 1); // lone surrogate: callers sanitise first, so this only keeps the scan total
        if (IsNonAsciiWhitespace(rune.Value)) return (ScalarClass.Space, length);
        return (Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => ScalarClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => ScalarClass.Number,
            _ => ScalarClass.Other,
        }, length);
    }

    /// <summary>Oniguruma's \s beyond ASCII: the Unicode White_Space property (not .NET's char.IsWhiteSpace, which differs).</summary>
    private static bool IsNonAsciiWhitespace(int scalar) =>
        scalar is 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    private static ScalarClass[] BuildAsciiClasses()
    {
        var classes = new ScalarClass[128];
        for (var c = 0; c < 128; c++)
        {
            classes[c] = c switch
            {
                '\r' or '\n' => ScalarClass.LineBreak,
                '\t' or '\v' or '\f' or ' ' => ScalarClass.Space,
                >= 'a' and <= 'z' or >= 'A' and <= 'Z' => ScalarClass.Letter,
                >= '0' and <= '9' => ScalarClass.Number,
                _ => ScalarClass.Other,
            };
        }
        return classes;
    }
}
