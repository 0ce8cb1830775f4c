using Google.Protobuf.Collections;
using Grpc.Core;
using Qdrant.Client.Grpc;

namespace Recommend.Testing.Qdrant;

/// <summary>
/// Qdrant's filter semantics over one point: must (all), should (at least one, when present), must_not (none);
/// a condition on a missing or null field is false; a list value matches when any element does.
/// Conditions the adapter never sends are refused rather than guessed.
/// </summary>
internal static class PayloadFilter
{
    public static bool Matches(Filter? filter, string pointKey, MapField<string, Value> payload)
    {
        if (filter is null)
            return true;
        if (filter.MinShould is not null)
            throw Unimplemented("min_should");
        return filter.Must.All(c => Holds(c, pointKey, payload))
            && (filter.Should.Count == 0 || filter.Should.Any(c => Holds(c, pointKey, payload)))
            && !filter.MustNot.Any(c => Holds(c, pointKey, payload));
    }

    private static bool Holds(Condition condition, string pointKey, MapField<string, Value> payload) => condition.ConditionOneOfCase switch
    {
        Condition.ConditionOneOfOneofCase.Field => HoldsField(condition.Field, payload),
        Condition.ConditionOneOfOneofCase.HasId => condition.HasId.HasId.Any(id => PointKeys.Of(id) == pointKey),
        Condition.ConditionOneOfOneofCase.Filter => Matches(condition.Filter, pointKey, payload),
        _ => throw Unimplemented($"condition {condition.ConditionOneOfCase}"),
    };

    private static bool HoldsField(FieldCondition field, MapField<string, Value> payload)
    {
        if (!payload.TryGetValue(field.Key, out var value) || value.KindCase is Value.KindOneofCase.NullValue or Value.KindOneofCase.None)
            return false;
        var values = value.KindCase == Value.KindOneofCase.ListValue ? value.ListValue.Values.ToList() : [value];
        if (field.Match is { } match)
            return values.Any(v => HoldsMatch(match, v));
        if (field.Range is { } range)
            return values.Any(v => InRange(range, v));
        throw Unimplemented("field condition other than match or range");
    }

    private static bool HoldsMatch(Match match, Value value) => match.MatchValueCase switch
    {
        Match.MatchValueOneofCase.Keyword => value.KindCase == Value.KindOneofCase.StringValue && value.StringValue == match.Keyword,
        Match.MatchValueOneofCase.Keywords => value.KindCase == Value.KindOneofCase.StringValue && match.Keywords.Strings.Contains(value.StringValue),
        Match.MatchValueOneofCase.Boolean => value.KindCase == Value.KindOneofCase.BoolValue && value.BoolValue == match.Boolean,
        Match.MatchValueOneofCase.Integer => value.KindCase == Value.KindOneofCase.IntegerValue && value.IntegerValue == match.Integer,
        Match.MatchValueOneofCase.Integers => value.KindCase == Value.KindOneofCase.IntegerValue && match.Integers.Integers.Contains(value.IntegerValue),
        _ => throw Unimplemented($"match {match.MatchValueCase}"),
    };

    private static bool InRange(global::Qdrant.Client.Grpc.Range range, Value value)
    {
        double number;
        switch (value.KindCase)
        {
            case Value.KindOneofCase.DoubleValue: number = value.DoubleValue; break;
            case Value.KindOneofCase.IntegerValue: number = value.IntegerValue; break;
            default: return false;
        }
        return (!range.HasGt || number > range.Gt)
            && (!range.HasGte || number >= range.Gte)
            && (!range.HasLt || number < range.Lt)
            && (!range.HasLte || number <= range.Lte);
    }

    private static RpcException Unimplemented(string what) =>
        new(new Status(StatusCode.Unimplemented, $"The Qdrant test double does not implement {what}."));
}

/// <summary>One key per point whatever the id form: Qdrant treats UUIDs case-insensitively and numbers apart from them.</summary>
internal static class PointKeys
{
    public static string Of(PointId id) => id.PointIdOptionsCase switch
    {
        PointId.PointIdOptionsOneofCase.Num => $"n:{id.Num}",
        PointId.PointIdOptionsOneofCase.Uuid when Guid.TryParse(id.Uuid, out var uuid) => $"u:{uuid:D}",
        _ => throw new RpcException(new Status(StatusCode.InvalidArgument, $"Unable to parse UUID: {id.Uuid}")),
    };

    /// <summary>The id as Qdrant returns it: numbers as given, UUIDs in lower-case hyphenated form.</summary>
    public static PointId Canonical(PointId id) =>
        id.PointIdOptionsCase == PointId.PointIdOptionsOneofCase.Uuid ? new PointId { Uuid = Guid.Parse(id.Uuid).ToString("D") } : id.Clone();
}
