using System.Globalization;
using System.Text.RegularExpressions;
using Recommend.Core.History;

namespace Recommend.Import;

/// <summary>
/// The raw UCI Online Retail layout (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID,
/// Country), a typical shop export. Kept, as in the data set's own derived files: lines with a customer, an all-digit
/// invoice, a product-like stock code, a positive quantity and a positive price. The rest is skipped and counted.
/// </summary>
internal static partial class UciTransactions
{
    public static bool IsLayout(IReadOnlySet<string> columns) =>
        columns.Contains("invoiceno") && columns.Contains("stockcode") && columns.Contains("customerid");

    /// <summary>Five digits and up to two letters; POST, DOT, M, BANK CHARGES and the like are fees and notes, not products.</summary>
    [GeneratedRegex("^[0-9]{5}[A-Za-z]{0,2}$")]
    public static partial Regex ProductCode();

    public static HistoryRow Event(long line, Func<string, string> field)
    {
        var invoice = field("invoiceno");
        if (invoice.StartsWith('C')) return HistoryRow.Skip(line, "cancellation");
        if (invoice.Length == 0 || !invoice.All(char.IsAsciiDigit)) return HistoryRow.Skip(line, "adjustment invoice");
        var customer = field("customerid");
        if (customer.Length == 0) return HistoryRow.Skip(line, "no customer");
        var code = field("stockcode");
        if (!ProductCode().IsMatch(code)) return HistoryRow.Skip(line, "non-product code");
        if (!int.TryParse(field("quantity"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var quantity))
            return HistoryRow.Reject(line, $"bad Quantity '{HistoryFile.Excerpt(field("quantity"))}'");
        if (quantity <= 0) return HistoryRow.Skip(line, "return");
        if (!double.TryParse(field("unitprice"), NumberStyles.Float, CultureInfo.InvariantCulture, out var price) || !double.IsFinite(price))
            return HistoryRow.Reject(line, $"bad UnitPrice '{HistoryFile.Excerpt(field("unitprice"))}'");
        if (price <= 0) return HistoryRow.Skip(line, "zero price");
        if (!HistoryFile.TryParseTime(field("invoicedate"), out var at))
            return HistoryRow.Reject(line, $"bad InvoiceDate '{HistoryFile.Excerpt(field("invoicedate"))}'");
        // One event per invoice line of a product (the id the bundled sample uses too): a product listed twice on one
        // invoice is one basket membership, and importing on top of the sample stores nothing twice.
        return HistoryRow.Kept(line, new UserEvent($"uci-{invoice}-{code}", EventType.Purchase, customer, code, quantity, price, at, null, invoice));
    }
}
