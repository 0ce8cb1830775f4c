using Xunit;

namespace Recommend.EmbeddedIndex.Tests;

public sealed class Utf8TextsTests
{
    [Fact]
    public void Texts_read_back_as_written_through_replacements_moves_removals_growth_and_compaction()
    {
        const int Rows = 300;
        var random = new Random(12);
        var texts = new Utf8Texts(8);
        var expected = new string?[Rows];
        var capacity = 8;
        string Text() => random.Next(5) switch
        {
            0 => "",
            1 => new string('長', random.Next(1, 40)),
            _ => $"Mug nº {random.Next()} {new string('x', random.Next(200))}",
        };

        for (var step = 0; step < 20_000; step++)
        {
            var row = random.Next(Rows);
            if (row >= capacity)
            {
                capacity = Math.Max(row + 1, capacity * 2);
                texts.Resize(capacity);
            }
            switch (random.Next(4))
            {
                case 0 or 1:
                    texts.Set(row, expected[row] = Text());
                    break;
                case 2:
                    var to = random.Next(row + 1);
                    texts.Move(row, to);
                    (expected[to], expected[row]) = (expected[row], null);
                    break;
                default:
                    texts.Clear(row);
                    expected[row] = null;
                    break;
            }
        }

        for (var row = 0; row < Rows; row++)
            Assert.Equal(expected[row] ?? "", row < capacity ? texts.Get(row) : "");
    }
}
