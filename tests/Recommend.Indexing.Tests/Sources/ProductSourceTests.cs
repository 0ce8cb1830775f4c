using Recommend.Indexing.Sources;

namespace Recommend.Indexing.Tests.Sources;

public class ProductSourceTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _directory = Directory.CreateTempSubdirectory("sources-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("store")]
    public void No_source_or_store_reads_the_catalog_of_record(string? source)
    {
        Assert.IsType<ProductSource.Store>(ProductSource.Parse(source));
        Assert.Equal("store", ProductSource.Parse(source).ToString());
    }

    [Theory]
    [InlineData("file:/srv/feed.jsonl", false)]
    [InlineData("file:/srv/feed.NDJSON", false)]
    [InlineData("file:/srv/feed.csv", true)]
    public void A_file_source_names_an_absolute_jsonl_or_csv_path(string source, bool csv)
    {
        var file = Assert.IsType<ProductSource.File>(ProductSource.Parse(source));
        Assert.Equal((source["file:".Length..], csv), (file.Path, file.IsCsv));
        Assert.Equal(source, file.ToString());
    }

    [Theory]
    [InlineData("ftp://catalog")]
    [InlineData("file:relative/feed.jsonl")]
    [InlineData("file:/srv/feed.xml")]
    public void Anything_else_is_refused_without_echoing_it(string source)
    {
        var error = Assert.Throws<FormatException>(() => ProductSource.Parse(source));
        Assert.DoesNotContain(source, error.Message);
    }

    [Fact]
    public async Task Json_lines_become_products_or_bad_rows_with_their_line_numbers()
    {
        var path = Write("feed.jsonl", string.Join('\n',
            """{"product_id":"a","title":" Mug ","price":"2.50","category":"Kitchen","in_stock":false,"attributes":{"colour":"red"}}""",
            "",
            """{"product_id":"b","title":"Pot"}""",
            """[1, 2]""",
            """{"product_id":"c","title":"Lamp","price":-1}""",
            """{"product_id":"d","title":"Broken" """,
            """{"product_id":"e","title":"Vase","price":7}"""));

        var rows = await JsonLinesProducts.ReadAsync(path, afterLine: 0, None).ToListAsync();

        Assert.Equal([1L, 3, 4, 5, 6, 7], rows.Select(r => r.Line));
        var mug = rows[0].Product!;
        Assert.Equal(("a", "Mug", 2.5, "Kitchen", false, "red"), (mug.Id, mug.Title, mug.Price, mug.Category, mug.InStock, mug.Attributes["colour"]));
        Assert.Equal(("b", "missing price"), (rows[1].Error!.ProductId, rows[1].Error!.Message));
        Assert.Equal("not a JSON object", rows[2].Error!.Message);
        Assert.Equal("bad price -1", rows[3].Error!.Message);
        Assert.StartsWith("malformed JSON", rows[4].Error!.Message);
        Assert.True(rows[5].Product!.InStock);
        Assert.Equal(6, await JsonLinesProducts.CountAsync(path, None));
        Assert.Equal(["7"], (await JsonLinesProducts.ReadAsync(path, afterLine: 6, None).ToListAsync()).Select(r => r.Position));
    }

    [Fact]
    public async Task Csv_follows_rfc_4180_and_numbers_each_record_by_its_first_line()
    {
        var path = Write("feed.csv", string.Join("\r\n",
            "Product_ID, Title ,price,in_stock,description,attributes",
            "c1,\"Mug, large\",3.5,yes,,\"{\"\"colour\"\":\"\"red\"\"}\"",
            "",
            "c2,\"Two-line",
            "title\",4,0,\"said \"\"hi\"\"\",",
            "c3,Teapot,cheap,true,,",
            "c4,Lamp,2,maybe,,",
            "c5,Vase,2,true,,not json"));

        var rows = await CsvProducts.ReadAsync(path, afterLine: 0, None).ToListAsync();

        Assert.Equal([2L, 4, 6, 7, 8], rows.Select(r => r.Line));
        Assert.Equal(("Mug, large", 3.5, true, "red"), (rows[0].Product!.Title, rows[0].Product!.Price, rows[0].Product!.InStock, rows[0].Product!.Attributes["colour"]));
        Assert.Equal(("Two-line\r\ntitle", false, "said \"hi\""), (rows[1].Product!.Title, rows[1].Product!.InStock, rows[1].Product!.Description));
        Assert.Equal("bad price 'cheap'", rows[2].Error!.Message);
        Assert.Equal("bad in_stock 'maybe'", rows[3].Error!.Message);
        Assert.Equal("attributes is not a JSON object of strings", rows[4].Error!.Message);
        Assert.Equal(5, await CsvProducts.CountAsync(path, None));
        Assert.Equal([7L, 8], (await CsvProducts.ReadAsync(path, afterLine: 6, None).ToListAsync()).Select(r => r.Line));
    }

    [Fact]
    public async Task A_csv_header_without_a_required_column_fails_the_file_naming_it_but_not_the_server_path()
    {
        var path = Write("no-price.csv", "product_id,title\nc1,Mug\n");

        var error = await Assert.ThrowsAsync<FormatException>(async () => await CsvProducts.ReadAsync(path, 0, None).ToListAsync());

        Assert.Contains("'price'", error.Message);
        Assert.DoesNotContain(_directory, error.Message);
    }

    [Fact]
    public void Every_source_holds_rows_to_the_same_rules()
    {
        var product = new Core.Catalog.Product("x", "Title", "", "", 1, true, Core.Catalog.Product.NoAttributes);

        Assert.NotNull(SourceRow.Checked(1, "1", product).Product);
        Assert.Equal("missing product_id", SourceRow.Checked(1, "1", product with { Id = "" }).Error!.Message);
        Assert.Equal("product_id longer than 128 characters", SourceRow.Checked(1, "1", product with { Id = new string('x', 129) }).Error!.Message);
        Assert.Equal("empty title", SourceRow.Checked(1, "1", product with { Title = "" }).Error!.Message);
        Assert.Equal("bad price NaN", SourceRow.Checked(1, "1", product with { Price = double.NaN }).Error!.Message);
    }
}
