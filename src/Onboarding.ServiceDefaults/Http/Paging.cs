namespace Onboarding.ServiceDefaults.Http;

/// <summary>One page of a list: the items, where the page is, and how many items there are in all.</summary>
public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

/// <summary>The one rule for page/pageSize query parameters across the API.</summary>
public static class Paging
{
    public const int MaxPageSize = 500;

    /// <summary>Adds field errors for an invalid page or page size; returns the number of items to skip.</summary>
    public static int Validate(int page, int pageSize, IDictionary<string, string[]> errors)
    {
        var skip = ((long)page - 1) * pageSize;
        if (page < 1)
            errors["page"] = ["Must be 1 or more."];
        else if (skip > int.MaxValue)
            errors["page"] = ["Too large."];
        if (pageSize is < 1 or > MaxPageSize)
            errors["pageSize"] = [$"Must be between 1 and {MaxPageSize}."];
        return errors.Count == 0 ? (int)skip : 0;
    }
}
