using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex.Graph;
using Xunit;

namespace Recommend.EmbeddedIndex.Tests;

/// <summary>
/// A million-product version holds each id and category name once: every full collection marks every string the
/// index holds, and that mark is a pause the requests wait out (docs/benchmarks.md).
/// </summary>
public sealed class SharedStringsTests
{
    private static VectorRecord Record(string id, string category) =>
        new(new string(id.AsSpan()), [1f, 0f], new string(category.AsSpan()), 1.0, true, id);

    [Fact]
    public void Rows_of_one_category_share_one_copy_of_its_name_however_it_arrived()
    {
        using var matrix = new VectorMatrix(2);

        matrix.Upsert([Record("a", "mugs"), Record("b", "mugs")]);
        matrix.Upsert([Record("c", "plates"), Record("c", "mugs"), Record("a", "mugs")]);

        var categories = matrix.Export().Select(r => r.Category).ToList();
        Assert.Equal(["mugs", "mugs", "mugs"], categories);
        Assert.All(categories, category => Assert.Same(categories[0], category));
    }

    [Fact]
    public void Loaded_graph_keys_hold_the_ids_the_rows_hold()
    {
        using var matrix = new VectorMatrix(2);
        matrix.Upsert([Record("a", "mugs"), Record("b", "mugs")]);
        var saved = new GraphKeys();
        foreach (var id in new[] { "a", "b", "gone" }) saved.Assign(id);
        using var file = new MemoryStream();
        using (var writer = new BinaryWriter(file, System.Text.Encoding.UTF8, leaveOpen: true)) saved.Save(writer);
        file.Position = 0;

        var loaded = GraphKeys.Load(new BinaryReader(file), matrix.SharedId);

        Assert.True(loaded.TryGetKey("a", out var a));
        Assert.True(loaded.TryGetKey("b", out var b));
        Assert.True(loaded.TryGetKey("gone", out var gone));
        Assert.Same(matrix.SharedId("a"), loaded.ProductOf(a));
        Assert.Same(matrix.SharedId("b"), loaded.ProductOf(b));
        Assert.Equal("gone", loaded.ProductOf(gone));
    }
}
