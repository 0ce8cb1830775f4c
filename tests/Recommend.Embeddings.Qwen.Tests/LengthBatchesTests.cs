using Xunit;

namespace Recommend.Embeddings.Qwen.Tests;

public sealed class LengthBatchesTests
{
    [Fact]
    public void Every_text_lands_in_exactly_one_batch_within_size_and_padding_bounds()
    {
        var random = new Random(7);
        var lengths = Enumerable.Range(0, 500).Select(_ => random.Next(1, 200)).ToArray();

        var batches = LengthBatches.Plan(lengths, maxBatchSize: 16, maxPaddingRatio: 1.25);

        Assert.Equal(Enumerable.Range(0, lengths.Length), batches.SelectMany(b => b).Order());
        Assert.All(batches, b => Assert.InRange(b.Length, 1, 16));
        Assert.All(batches, b => Assert.True(b.Length * b.Max(i => lengths[i]) <= 1.25 * b.Sum(i => lengths[i])));
    }

    [Fact]
    public void Equal_lengths_fill_whole_batches_and_outliers_get_their_own()
    {
        int[] lengths = [10, 10, 10, 10, 10, 500];

        var batches = LengthBatches.Plan(lengths, maxBatchSize: 4, maxPaddingRatio: 1.25);

        Assert.Equal([[0, 1, 2, 3], [4], [5]], batches);
    }
}
