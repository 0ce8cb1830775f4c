using System.Numerics.Tensors;
using Recommend.Core.Catalog;
using Recommend.Core.Vectors;
using Xunit;

namespace Recommend.EmbeddedIndex.Tests;

/// <summary>Behaviour specific to the embedded backend: crash recovery, compaction, locking and determinism.</summary>
public sealed class EmbeddedVectorIndexTests : IDisposable
{
    private const int Dimension = 4;
    private static readonly IndexSpec Spec = new("test-model", Dimension);
    private static CancellationToken Ct => CancellationToken.None;

    private readonly TemporaryIndexes _indexes = new();

    public void Dispose() => _indexes.Dispose();

    public enum Damage { CutInsideBody, CutInsideFrameHeader, CorruptChecksum }

    [Theory]
    [InlineData(Damage.CutInsideBody)]
    [InlineData(Damage.CutInsideFrameHeader)]
    [InlineData(Damage.CorruptChecksum)]
    public async Task A_damaged_last_record_loses_only_that_record_and_later_writes_still_survive(Damage damage)
    {
        var index = _indexes.Create();
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.SetLiveVersionAsync(version, Ct);
        await index.UpsertAsync(version, [Record("a", [1, 0, 0, 0]), Record("b", [0, 1, 0, 0])], Ct);
        var log = index.RecordLogPath(version);
        var intactLength = new FileInfo(log).Length;
        await index.UpsertAsync(version, [Record("torn", [0, 0, 1, 0])], Ct);
        var fullLength = new FileInfo(log).Length;
        index.Dispose();

        SimulateCrash(log, damage, intactLength, fullLength);
        var recovered = _indexes.Open(index.DirectoryPath);

        Assert.Equal(["a", "b"], (await recovered.GetVectorsAsync(["a", "b", "torn"], Ct)).Keys.Order());
        await recovered.UpsertAsync(version, [Record("after", [0, 0, 0, 1])], Ct);
        var reopened = _indexes.Reopen(recovered);
        Assert.Equal(["a", "after", "b"], (await reopened.GetVectorsAsync(["a", "b", "torn", "after"], Ct)).Keys.Order());
    }

    [Fact]
    public async Task The_log_is_compacted_once_dead_records_outnumber_live_ones_and_keeps_the_latest_data()
    {
        var index = _indexes.Create();
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.SetLiveVersionAsync(version, Ct);
        var log = index.RecordLogPath(version);
        // Same ids and payload sizes each round, so every round appends exactly as many bytes as the first.
        await index.UpsertAsync(version, Round(1), Ct);
        var oneRound = new FileInfo(log).Length;

        await index.UpsertAsync(version, Round(2), Ct);
        var afterReplacingOnce = new FileInfo(log).Length;
        await index.UpsertAsync(version, Round(3), Ct);
        var afterReplacingTwice = new FileInfo(log).Length;

        Assert.True(afterReplacingOnce > oneRound, "as many dead records as live ones is not yet worth a rewrite");
        Assert.Equal(oneRound, afterReplacingTwice);
        var reopened = _indexes.Reopen(index);
        var vectors = await reopened.GetVectorsAsync(Round(3).Select(r => r.ProductId).ToList(), Ct);
        Assert.Equal(10, vectors.Count);
        foreach (var record in Round(3))
            Assert.Equal(Unit(record.Vector), vectors[record.ProductId], FloatComparer);

        static List<VectorRecord> Round(int round) =>
            Enumerable.Range(0, 10).Select(i => Record($"p{i}", [round, i, 1, -1])).ToList();
    }

    [Fact]
    public async Task Deletes_trigger_compaction_and_the_compacted_log_replays_the_survivors()
    {
        var index = _indexes.Create();
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.SetLiveVersionAsync(version, Ct);
        var log = index.RecordLogPath(version);
        await index.UpsertAsync(version, [Record("keep-1", [1, 0, 0, 0]), Record("keep-2", [0, 1, 0, 0])], Ct);
        var survivorsOnly = new FileInfo(log).Length;
        await index.UpsertAsync(version, Enumerable.Range(0, 5).Select(i => Record($"drop-{i}", [1, 1, i, 0])).ToList(), Ct);

        await index.DeleteAsync(version, Enumerable.Range(0, 5).Select(i => $"drop-{i}").ToList(), Ct);

        Assert.Equal(survivorsOnly, new FileInfo(log).Length);
        var reopened = _indexes.Reopen(index);
        Assert.Equal(2, await reopened.CountAsync(version, Ct));
        Assert.Equal(["keep-1", "keep-2"], (await reopened.SearchAsync(Query([1, 0.5f, 0, 0], limit: 10), Ct)).Select(h => h.ProductId));
    }

    [Fact]
    public async Task Concurrent_searches_during_upserts_deletes_and_live_switches_see_one_consistent_version()
    {
        const int SearchesPerReader = 1_000;
        const int Batch = 100;
        var index = _indexes.Create();
        var versions = new Dictionary<string, string>
        {
            ["blue"] = (await index.CreateVersionAsync(Spec, Ct)).Name,
            ["green"] = (await index.CreateVersionAsync(Spec, Ct)).Name,
        };
        foreach (var (colour, version) in versions)
            await index.UpsertAsync(version, Enumerable.Range(0, 2 * Batch).Select(n => Derived(colour, n)).ToList(), Ct);
        await index.SetLiveVersionAsync(versions["blue"], Ct);
        float[] query = [0.5f, -1, 0.25f, 1];

        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var observed = new List<IReadOnlyList<VectorHit>>();
            for (var i = 0; i < SearchesPerReader; i++)
                observed.Add(await index.SearchAsync(Query(query, limit: 20), Ct));
            return observed;
        })).ToArray();
        var round = 0;
        do
        {
            // Each colour in turn slides its window of products on by a batch, then goes live.
            var colour = round % 2 == 0 ? "green" : "blue";
            var offset = round / 2 * Batch;
            await index.UpsertAsync(versions[colour], Enumerable.Range(offset + 2 * Batch, Batch).Select(n => Derived(colour, n)).ToList(), Ct);
            // Deleting the oldest rows swaps the newest into their slots while readers scan them (and triggers compaction).
            await index.DeleteAsync(versions[colour], Enumerable.Range(offset, Batch).Select(n => $"{colour}-{n}").ToList(), Ct);
            await index.SetLiveVersionAsync(versions[colour], Ct);
            round++;
        }
        while (!readers.All(r => r.IsCompleted));

        foreach (var hits in (await Task.WhenAll(readers)).SelectMany(observed => observed))
        {
            Assert.Equal(20, hits.Count);
            var colour = hits[0].ProductId.Split('-')[0];
            foreach (var hit in hits)
            {
                Assert.StartsWith(colour + "-", hit.ProductId);
                // A row torn by a concurrent write would score differently from its product's own vector.
                var number = int.Parse(hit.ProductId.Split('-')[1]);
                Assert.Equal(TensorPrimitives.CosineSimilarity(query, Derived(colour, number).Vector), hit.Score, 1e-5);
            }
            Assert.Equal(hits.OrderByDescending(h => h.Score).Select(h => h.ProductId), hits.Select(h => h.ProductId));
        }
    }

    [Fact]
    public async Task Equal_scores_are_ordered_by_product_id_even_when_the_limit_cuts_between_them()
    {
        var index = _indexes.Create();
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.SetLiveVersionAsync(version, Ct);
        string[] insertedOutOfOrder = ["d", "b", "a", "c"];
        await index.UpsertAsync(version, insertedOutOfOrder.Select(id => Record(id, [1, 1, 0, 0])).ToList(), Ct);

        var all = await index.SearchAsync(Query([1, 1, 0, 0], limit: 10), Ct);
        var firstTwo = await index.SearchAsync(Query([1, 1, 0, 0], limit: 2), Ct);

        Assert.Equal(["a", "b", "c", "d"], all.Select(h => h.ProductId));
        Assert.Equal(["a", "b"], firstTwo.Select(h => h.ProductId));
    }

    [Fact]
    public async Task A_wrong_dimension_is_rejected_with_a_message_naming_the_expected_one()
    {
        var index = _indexes.Create();
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.SetLiveVersionAsync(version, Ct);

        var upsert = await Assert.ThrowsAsync<ArgumentException>(() => index.UpsertAsync(version, [Record("a", [1, 2, 3])], Ct));
        var search = await Assert.ThrowsAsync<ArgumentException>(() => index.SearchAsync(Query([1, 2, 3, 4, 5], limit: 1), Ct));

        Assert.Contains($"dimension {Dimension}", upsert.Message);
        Assert.Contains($"dimension {Dimension}", search.Message);
    }

    [Fact]
    public async Task Zero_vectors_cannot_be_stored_or_searched_for()
    {
        var index = _indexes.Create();
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.SetLiveVersionAsync(version, Ct);

        await Assert.ThrowsAsync<ArgumentException>(() => index.UpsertAsync(version, [Record("a", [0, 0, 0, 0])], Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => index.SearchAsync(Query([0, 0, 0, 0], limit: 1), Ct));
    }

    [Fact]
    public void A_directory_can_be_open_in_only_one_instance_at_a_time()
    {
        var first = _indexes.Create();

        Assert.Throws<IOException>(() => EmbeddedVectorIndex.Open(first.DirectoryPath));

        first.Dispose();
        Assert.Equal("embedded", _indexes.Open(first.DirectoryPath).Backend);
    }

    [Fact]
    public async Task A_version_directory_left_without_a_manifest_by_a_crash_is_removed_on_open()
    {
        var directory = _indexes.NewDirectory();
        var leftover = Path.Combine(directory, "versions", "v7");
        Directory.CreateDirectory(leftover);
        await File.WriteAllBytesAsync(Path.Combine(leftover, "records.log"), [1, 2, 3]);

        var index = _indexes.Open(directory);

        Assert.Empty(await index.ListVersionsAsync(Ct));
        Assert.False(Directory.Exists(leftover));
    }

    [Fact]
    public async Task Stored_vectors_are_copies_so_callers_cannot_change_the_index()
    {
        var index = _indexes.Create();
        var version = (await index.CreateVersionAsync(Spec, Ct)).Name;
        await index.SetLiveVersionAsync(version, Ct);
        float[] original = [3, 4, 0, 0];
        await index.UpsertAsync(version, [Record("a", original)], Ct);

        original[0] = -100;
        (await index.GetVectorsAsync(["a"], Ct))["a"][1] = -100;

        Assert.Equal([0.6f, 0.8f, 0, 0], (await index.GetVectorsAsync(["a"], Ct))["a"], FloatComparer);
    }

    private static readonly IEqualityComparer<float> FloatComparer =
        EqualityComparer<float>.Create((x, y) => Math.Abs(x - y) < 1e-6f, x => 0);

    private static void SimulateCrash(string log, Damage damage, long intactLength, long fullLength)
    {
        using var file = new FileStream(log, FileMode.Open, FileAccess.ReadWrite);
        switch (damage)
        {
            case Damage.CutInsideBody:
                file.SetLength(fullLength - 1);
                break;
            case Damage.CutInsideFrameHeader:
                file.SetLength(intactLength + 3);
                break;
            case Damage.CorruptChecksum:
                file.Position = fullLength - 1;
                var last = file.ReadByte();
                file.Position = fullLength - 1;
                file.WriteByte((byte)(last ^ 0xFF));
                break;
        }
    }

    private static VectorRecord Record(string id, float[] vector) => new(id, vector, "toys", 10, true, $"Product {id}");

    /// <summary>A record whose vector follows from its id, so any hit can be checked against the vector it must have.</summary>
    private static VectorRecord Derived(string colour, int number)
    {
        var random = new Random(number);
        return Record($"{colour}-{number}", Enumerable.Range(0, Dimension).Select(_ => random.NextSingle() * 2 - 1).ToArray());
    }

    private static VectorQuery Query(float[] vector, int limit) => new(vector, limit, ProductFilter.None);

    private static float[] Unit(float[] vector)
    {
        var unit = new float[vector.Length];
        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), unit);
        return unit;
    }
}
