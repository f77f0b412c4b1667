//! Filtering, ordering and paging a complete listing, for the embedded
//! catalog and for upstreams walked in full.

use std::borrow::Borrow;

use super::{Filter, GatewayError, Image, ListPage, ListQuery, PageStart};

/// Filters, orders and pages a complete listing: the one place where paging
/// is emulated, for the memory catalog and for upstreams walked in full.
/// The page's images are copied out of `all`.
///
/// An unknown marker is a bad request, as in Nova.
pub fn paginate<T: Borrow<Image>>(all: &[T], query: &ListQuery, filter: &Filter) -> Result<ListPage, GatewayError> {
    let (positions, page) = select(all, query, filter)?;
    Ok(ListPage { images: positions.iter().map(|&i| all[i].borrow().clone()).collect(), ..page })
}

/// [`paginate`] for a listing the caller owns: the page's images are moved
/// out of it, not copied.
pub fn paginate_owned(all: Vec<Image>, query: &ListQuery, filter: &Filter) -> Result<ListPage, GatewayError> {
    let (positions, page) = select(&all, query, filter)?;
    let mut slots: Vec<Option<Image>> = all.into_iter().map(Some).collect();
    Ok(ListPage { images: positions.iter().filter_map(|&i| slots[i].take()).collect(), ..page })
}

/// The positions in `all` of the page's images, in order, and the page's
/// counts (with no images yet).
///
/// With a scope, the total counts the images in it, and only those can match.
fn select<T: Borrow<Image>>(
    all: &[T],
    query: &ListQuery,
    filter: &Filter,
) -> Result<(Vec<usize>, ListPage), GatewayError> {
    let all: Vec<&Image> = all.iter().map(Borrow::borrow).collect();
    let in_scope: Vec<usize> = match &query.scope {
        Some(scope) => (0..all.len()).filter(|&i| scope.matches(all[i])).collect(),
        None => (0..all.len()).collect(),
    };
    let total = in_scope.len();
    let mut matched: Vec<usize> = in_scope.into_iter().filter(|&i| filter.matches(all[i])).collect();
    if let Some(sort) = &query.sort {
        matched.sort_by(|&a, &b| sort.compare(all[a], all[b]));
    }
    let offset = match &query.page.start {
        PageStart::First => 0,
        PageStart::Offset(n) => *n,
        PageStart::After(marker) => {
            let at = matched.iter().position(|&i| all[i].id == *marker);
            at.map(|i| i + 1).ok_or_else(|| GatewayError::bad_request(format!("marker [{marker}] not found")))?
        }
    };
    let start = offset.min(matched.len());
    let end = query.page.limit.map_or(matched.len(), |limit| start.saturating_add(limit).min(matched.len()));
    let page = ListPage {
        images: Vec::new(),
        offset: Some(offset),
        matched: Some(matched.len()),
        total: Some(total),
        more: end < matched.len(),
    };
    Ok((matched[start..end].to_vec(), page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ErrorKind, Filter, ImageId, PageRequest, Sort, SortField};

    fn catalog(n: usize) -> Vec<Image> {
        (1..=n)
            .map(|i| Image { id: ImageId::new(i.to_string()), name: format!("img-{i:02}").into(), ..Image::default() })
            .collect()
    }

    fn ids(page: &ListPage) -> Vec<&str> {
        page.images.iter().map(|i| i.id.as_str()).collect()
    }

    fn query(start: PageStart, limit: Option<usize>) -> ListQuery {
        ListQuery { page: PageRequest { start, limit }, ..ListQuery::default() }
    }

    #[test]
    fn marker_pages_follow_each_other() {
        let all = catalog(5);
        let first = paginate(&all, &query(PageStart::First, Some(2)), &Filter::default()).unwrap();
        assert_eq!(ids(&first), ["1", "2"]);
        assert!(first.more);
        let second = paginate(&all, &query(PageStart::After(ImageId::new("2")), Some(2)), &Filter::default()).unwrap();
        assert_eq!(ids(&second), ["3", "4"]);
        assert_eq!(second.offset, Some(2));
        let last = paginate(&all, &query(PageStart::After(ImageId::new("4")), Some(2)), &Filter::default()).unwrap();
        assert_eq!(ids(&last), ["5"]);
        assert!(!last.more);
    }

    #[test]
    fn offsets_past_the_end_give_an_empty_page() {
        let all = catalog(3);
        let page = paginate(&all, &query(PageStart::Offset(10), Some(2)), &Filter::default()).unwrap();
        assert!(page.images.is_empty());
        assert_eq!((page.matched, page.total, page.more), (Some(3), Some(3), false));
    }

    #[test]
    fn unknown_marker_is_a_bad_request() {
        let err =
            paginate(&catalog(3), &query(PageStart::After(ImageId::new("x")), None), &Filter::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest);
        assert_eq!(err.message, "marker [x] not found");
    }

    #[test]
    fn owned_and_borrowed_listings_page_alike() {
        let all = catalog(7);
        let q = query(PageStart::After(ImageId::new("3")), Some(2));
        let filter = Filter::default();
        assert_eq!(paginate(&all, &q, &filter).unwrap(), paginate_owned(all.clone(), &q, &filter).unwrap());
    }

    #[test]
    fn filter_and_sort_apply_before_paging() {
        let all = catalog(12);
        let q = ListQuery {
            sort: Some(Sort { field: SortField::Name, descending: true }),
            page: PageRequest { start: PageStart::Offset(1), limit: Some(1) },
            ..ListQuery::default()
        };
        let filter = Filter { name_like: Some("img-1".into()), ..Filter::default() };
        let page = paginate(&all, &q, &filter).unwrap();
        assert_eq!(ids(&page), ["11"]);
        assert_eq!((page.matched, page.total, page.more), (Some(3), Some(12), true));
    }
}
