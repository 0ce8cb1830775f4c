using Grpc.Core;
using Recommend.Core.Catalog;
using Recommend.Core.Ranking;
using Recommend.Core.Vectors;
using Proto = Recommend.Contracts.V1;

namespace Recommend.Api.Grpc;

/// <summary>Turns proto requests into core inputs, rejecting bad input with INVALID_ARGUMENT naming the field.</summary>
internal static class RequestValidation
{
    public const int MaxIdLength = 128;
    public const int MaxIdsPerRequest = 500;
    public const int MaxQueryLength = 1_000;

    public static RpcException Invalid(string field, string problem) => RichStatus.InvalidArgument(field, problem);

    public static string Id(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value)) throw Invalid(field, "must not be empty");
        if (value.Length > MaxIdLength) throw Invalid(field, $"must be at most {MaxIdLength} characters");
        if (value.AsSpan().ContainsAnyInRange('\u0000', '\u001f') || value.Contains('\u007f'))
            throw Invalid(field, "must not contain control characters");
        return value;
    }

    /// <summary>A name such as a category or placement: optional, but when given held to the rules for ids.</summary>
    public static string Name(string? value, string field) => string.IsNullOrEmpty(value) ? "" : Id(value, field);

    /// <summary>Free text (titles, descriptions, queries): bounded, and no control characters but tabs and line breaks.</summary>
    public static string Text(string? value, string field, int maxLength)
    {
        value ??= "";
        if (value.Length > maxLength) throw Invalid(field, $"must be at most {maxLength} characters, got {value.Length}");
        foreach (var c in value)
        {
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r')) throw Invalid(field, "must not contain control characters other than tab and line breaks");
        }
        return value;
    }

    /// <summary>An optional id (user id on storefront calls): empty means anonymous.</summary>
    public static string? OptionalId(string? value, string field) =>
        string.IsNullOrEmpty(value) ? null : Id(value, field);

    public static IReadOnlyList<string> Ids(IReadOnlyList<string> values, string field, bool required)
    {
        if (required && values.Count == 0) throw Invalid(field, "must name at least one product");
        if (values.Count > MaxIdsPerRequest) throw Invalid(field, $"at most {MaxIdsPerRequest} ids per request, got {values.Count}");
        for (var i = 0; i < values.Count; i++) Id(values[i], $"{field}[{i}]");
        return values.Distinct(StringComparer.Ordinal).ToList();
    }

    public static int Limit(int limit)
    {
        if (limit == 0) return RequestOptions.DefaultLimit;
        if (limit is < 1 or > RequestOptions.MaxLimit) throw Invalid("limit", $"must be between 1 and {RequestOptions.MaxLimit} (0 means {RequestOptions.DefaultLimit}), got {limit}");
        return limit;
    }

    public static ProductFilter Filter(Proto.ProductFilter? filter)
    {
        if (filter is null) return ProductFilter.None;
        double? min = filter.HasMinPrice ? Price(filter.MinPrice, "filter.min_price") : null;
        double? max = filter.HasMaxPrice ? Price(filter.MaxPrice, "filter.max_price") : null;
        if (min > max) throw Invalid("filter.min_price", $"must not exceed filter.max_price ({min} > {max})");
        var categories = filter.Categories.ToList();
        if (categories.Count > MaxIdsPerRequest) throw Invalid("filter.categories", $"at most {MaxIdsPerRequest} categories");
        for (var i = 0; i < categories.Count; i++) Id(categories[i], $"filter.categories[{i}]");
        return new ProductFilter(
            categories.ToHashSet(StringComparer.Ordinal), min, max, filter.InStockOnly,
            Ids(filter.ExcludeProductIds, "filter.exclude_product_ids", required: false).ToHashSet(StringComparer.Ordinal));
    }

    public static double Price(double value, string field)
    {
        if (!double.IsFinite(value) || value < 0) throw Invalid(field, $"must be a finite, non-negative amount, got {value}");
        return value;
    }

    public static RequestOptions Options(int limit, Proto.ProductFilter? filter, string? userId, bool includePurchased, string? placement) =>
        new(Limit(limit), Filter(filter), OptionalId(userId, "user_id"), includePurchased, OptionalId(placement, "placement"));
}
