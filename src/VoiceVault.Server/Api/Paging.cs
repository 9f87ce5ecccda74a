using System.Globalization;

namespace VoiceVault.Server.Api;

/// <summary>
/// Keyset paging over a sequence number, expressed in Twilio's parameters: <c>PageSize</c> (default
/// 50, max 1000), <c>Page</c> (the index, informational) and <c>PageToken</c> (<c>PA{seq}</c> for
/// the page after, <c>PB{seq}</c> for the page before). Stable under concurrent inserts.
/// </summary>
public sealed record PageRequest(int PageSize, int Page, long? After, long? Before)
{
    /// <summary>The rows this page needs from storage.</summary>
    public Core.PageCursor Cursor => new(PageSize, After, Before);
}

/// <summary>Twilio's paging parameters, as every list takes them; <see cref="Request"/> validates them.</summary>
public sealed record PageQuery(
    [Microsoft.AspNetCore.Mvc.FromQuery(Name = "PageSize")] string? PageSize,
    [Microsoft.AspNetCore.Mvc.FromQuery(Name = "Page")] string? Page,
    [Microsoft.AspNetCore.Mvc.FromQuery(Name = "PageToken")] string? PageToken)
{
    public PageRequest Request()
    {
        int size = 50;
        if (PageSize is not null && (!int.TryParse(PageSize, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > 1000))
        {
            throw ApiException.BadParameter($"PageSize must be an integer from 1 to 1000; got '{PageSize}'", 20001);
        }
        int page = 0;
        if (Page is not null && (!int.TryParse(Page, NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 0))
        {
            throw ApiException.BadParameter($"Page must be a non-negative integer; got '{Page}'", 20001);
        }
        long? after = null, before = null;
        if (!string.IsNullOrEmpty(PageToken))
        {
            var token = PageToken;
            if (token.Length < 3 || !long.TryParse(token.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var seq) || token[0] != 'P' || token[1] is not ('A' or 'B'))
            {
                throw ApiException.BadParameter($"PageToken '{token}' is not valid", 20001);
            }
            if (token[1] == 'A')
            {
                after = seq;
            }
            else
            {
                before = seq;
            }
        }
        return new PageRequest(size, page, after, before);
    }
}

/// <summary>One page of rows in list order, with what is needed to link its neighbours.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, PageRequest Request, bool HasNext, bool HasPrevious, long? FirstSeq, long? LastSeq)
{
    /// <summary>
    /// Pages an in-memory list already in list order. <paramref name="descending"/> says which way
    /// <paramref name="seq"/> runs through it.
    /// </summary>
    public static Page<T> Of(IEnumerable<T> ordered, Func<T, long> seq, PageRequest request, bool descending)
    {
        bool IsAfter(long s, long pivot) => descending ? s < pivot : s > pivot;
        var all = ordered.ToList();
        List<T> items;
        bool hasNext, hasPrevious;
        if (request.Before is { } before)
        {
            var earlier = all.Where(x => IsAfter(before, seq(x))).ToList();
            items = earlier.TakeLast(request.PageSize).ToList();
            hasPrevious = earlier.Count > items.Count;
            hasNext = true;
        }
        else
        {
            var rest = request.After is { } after ? all.Where(x => IsAfter(seq(x), after)).ToList() : all;
            items = rest.Take(request.PageSize).ToList();
            hasNext = rest.Count > items.Count;
            hasPrevious = request.After is not null;
        }
        return new Page<T>(items, request, hasNext, hasPrevious,
            items.Count > 0 ? seq(items[0]) : null, items.Count > 0 ? seq(items[^1]) : null);
    }

    /// <summary>The <c>/2010-04-01</c> list envelope around <paramref name="list"/>'s items.</summary>
    public TList ToV2010<TList>(TList list, string path, string extraQuery = "") where TList : TwilioPage
    {
        int size = Request.PageSize;
        string Uri(string? token, int page) => $"{path}?{extraQuery}PageSize={size}&Page={page}{(token is null ? "" : "&PageToken=" + token)}";
        int start = Request.Page * size;
        return (TList)((TwilioPage)list with
        {
            Page = Request.Page,
            PageSize = size,
            Start = start,
            End = start + Math.Max(Items.Count - 1, 0),
            Uri = Uri(Request.After is { } a ? $"PA{a}" : Request.Before is { } b ? $"PB{b}" : null, Request.Page),
            FirstPageUri = Uri(null, 0),
            NextPageUri = HasNext && LastSeq is { } last ? Uri($"PA{last}", Request.Page + 1) : null,
            PreviousPageUri = HasPrevious && FirstSeq is { } first ? Uri($"PB{first}", Math.Max(Request.Page - 1, 0)) : null,
        });
    }

    /// <summary>The <c>/v1</c> list envelope's <c>meta</c>; <paramref name="filters"/> (the list's own query parameters) go into every link.</summary>
    public PageMeta ToV1Meta(string key, string url, IEnumerable<KeyValuePair<string, string?>>? filters = null)
    {
        int size = Request.PageSize;
        var kept = string.Concat((filters ?? []).Where(f => !string.IsNullOrEmpty(f.Value)).Select(f => $"&{f.Key}={Uri.EscapeDataString(f.Value!)}"));
        string Url(string? token, int page) => $"{url}?PageSize={size}&Page={page}{kept}{(token is null ? "" : "&PageToken=" + token)}";
        return new PageMeta(Request.Page, size, Url(null, 0),
            HasPrevious && FirstSeq is { } first ? Url($"PB{first}", Math.Max(Request.Page - 1, 0)) : null,
            HasNext && LastSeq is { } last ? Url($"PA{last}", Request.Page + 1) : null,
            Url(Request.After is { } a ? $"PA{a}" : Request.Before is { } b ? $"PB{b}" : null, Request.Page), key);
    }
}
