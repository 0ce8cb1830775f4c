using Xunit;

namespace Recommend.Embeddings.Qwen.Tests;

public sealed class Qwen3TokenizerTests
{
    private static Qwen3Tokenizer Tokenizer => Fixtures.Tokenizer;

    [Fact]
    public void Matches_hugging_face_ids_on_every_golden_string()
    {
        var cases = Fixtures.GoldenCases();
        Assert.True(cases.Count >= 1000, $"golden file has only {cases.Count} strings");

        var mismatches = cases
            .Select(c => (c.Text, Expected: c.Ids, Actual: Tokenizer.Encode(c.Text)))
            .Where(r => !r.Expected.SequenceEqual(r.Actual))
            .ToList();

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {cases.Count} differ, e.g.\n" + string.Join("\n", mismatches.Take(10).Select(m =>
            $"{Escape(m.Text)}: expected [{string.Join(",", m.Expected)}] got [{string.Join(",", m.Actual)}]")));
    }

    [Theory]
    [InlineData("test", new[] { 1944, 151643 })]
    [InlineData("test again", new[] { 1944, 1549, 151643 })]
    [InlineData("!", new[] { 0, 151643 })]
    [InlineData("!#012", new[] { 0, 2, 15, 16, 17, 151643 })]
    [InlineData("", new[] { 151643 })]
    public void Produces_the_ids_documented_for_qwen3_embedding(string text, int[] expected) =>
        Assert.Equal(expected, Tokenizer.Encode(text));

    [Fact]
    public void Truncation_keeps_the_end_token_and_a_prefix_of_the_full_encoding()
    {
        var text = string.Join(' ', Enumerable.Repeat("WHITE HANGING HEART T-LIGHT HOLDER", 3000)); // ~100k chars
        var full = Tokenizer.Encode(text);

        var truncated = Tokenizer.Encode(text, maxTokens: 32);

        Assert.Equal(32, truncated.Length);
        Assert.Equal(full[..31], truncated[..31]);
        Assert.Equal(Qwen3Tokenizer.EndOfTextId, truncated[^1]);
        Assert.Equal([Qwen3Tokenizer.EndOfTextId], Tokenizer.Encode(text, maxTokens: 1));
    }

    [Fact]
    public void Lone_surrogates_become_the_replacement_character()
    {
        Assert.Equal(Tokenizer.Encode("a\uFFFDb"), Tokenizer.Encode("a\uDC00b"));
        Assert.Equal(Tokenizer.Encode("x \uFFFD"), Tokenizer.Encode("x \uD83D"));
        Assert.Equal(Tokenizer.Encode("😀"), Tokenizer.Encode("\uD83D\uDE00")); // a valid pair is kept
    }

    [Fact]
    public void Rejects_a_tokenizer_json_of_another_family()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-qwen-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"model":{"type":"WordPiece","vocab":{}},"normalizer":null,"pre_tokenizer":null,"added_tokens":[]}""");
        try { Assert.Throws<InvalidDataException>(() => Qwen3Tokenizer.FromFile(path)); }
        finally { File.Delete(path); }
    }

    private static string Escape(string s) => string.Concat(s.Select(c => c < 32 || c > 126 ? $"\\u{(int)c:x4}" : c.ToString()));
}
