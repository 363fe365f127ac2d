//! Unit tests of the page cache and the page-slice cache.

use bytes::Bytes;
use svm_kv::MemKv;
use svm_pages::{PageIndex, PageStorage, PageStore, PagesError, empty_root};
use svm_types::{Address, State};

use super::*;

fn cache() -> PageSliceCache<PageStore<MemKv>> {
    let store = PageStore::new(MemKv::new());
    PageSliceCache::new(
        PageCache::open(
            store,
            Address([1; 20]),
            empty_root(),
            CacheConfig::default(),
        )
        .unwrap(),
    )
}

#[test]
fn slices_must_fit_in_their_page() {
    assert!(PageSlice::new(PageIndex(0), 4096, 0).is_ok());
    assert!(PageSlice::new(PageIndex(0), 4088, 8).is_ok());
    assert_eq!(
        PageSlice::new(PageIndex(2), 4089, 8),
        Err(CacheError::SliceOutOfPage {
            page: PageIndex(2),
            offset: 4089,
            len: 8
        })
    );
    assert!(PageSlice::new(PageIndex(0), u32::MAX, u32::MAX).is_err());
    let mut c = cache();
    assert!(matches!(
        c.cache_mut().write(PageIndex(0), usize::MAX, &[1]),
        Err(CacheError::SliceOutOfPage { .. })
    ));
}

/// The original SVM returned the whole page on a cache hit; a read must
/// return exactly the slice, hit or miss.
#[test]
fn a_read_returns_exactly_the_slice_on_hit_and_miss() {
    let mut c = cache();
    let s = PageSlice::new(PageIndex(3), 100, 5).unwrap();
    assert_eq!(c.read(&s).unwrap(), vec![0; 5]); // miss
    c.write(&s, b"hello").unwrap();
    assert_eq!(c.read(&s).unwrap(), b"hello".to_vec()); // hit
    let root = c.commit().unwrap();
    assert_eq!(c.read(&s).unwrap(), b"hello".to_vec()); // LRU
    let wide = PageSlice::new(PageIndex(3), 98, 9).unwrap();
    assert_eq!(c.read(&wide).unwrap(), b"\0\0hello\0\0".to_vec());
    assert_ne!(root, empty_root());
}

#[test]
fn integer_helpers_are_big_endian_and_length_checked() {
    let mut c = cache();
    let s = PageSlice::new(PageIndex(0), 0, 8).unwrap();
    c.write_u64(&s, 0x0102_0304_0506_0708).unwrap();
    assert_eq!(c.read(&s).unwrap(), vec![1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(c.read_i64(&s).unwrap(), 0x0102_0304_0506_0708);
    assert_eq!(
        c.read_u32(&s),
        Err(CacheError::LengthMismatch {
            expected: 8,
            got: 4
        })
    );
    assert!(c.write(&s, &[1, 2, 3]).is_err());
}

#[test]
fn pages_load_once_per_run_and_identical_writes_do_not_dirty() {
    let mut c = cache();
    let s = PageSlice::new(PageIndex(1), 0, 4).unwrap();
    c.write_u32(&s, 7).unwrap();
    c.commit().unwrap();
    c.cache_mut().take_stats();
    for _ in 0..10 {
        c.read_u32(&s).unwrap();
    }
    let st = c.cache().stats();
    assert_eq!(st.pages_loaded + st.lru_hits, 1);
    assert_eq!(st.bytes_read, 40);
    c.write_u32(&s, 7).unwrap();
    assert_eq!(c.cache().dirty_pages(), 0);
    c.write_u32(&s, 8).unwrap();
    assert_eq!(c.cache().dirty_pages(), 1);
}

#[test]
fn nested_checkpoints_undo_inner_writes_only() {
    let mut c = cache();
    let a = PageSlice::new(PageIndex(0), 0, 1).unwrap();
    let b = PageSlice::new(PageIndex(1), 0, 1).unwrap();
    c.write_u8(&a, 1).unwrap();
    let outer = c.cache_mut().checkpoint();
    c.write_u8(&a, 2).unwrap();
    let inner = c.cache_mut().checkpoint();
    c.write_u8(&a, 3).unwrap();
    c.write_u8(&b, 9).unwrap();
    c.cache_mut().rollback_to(inner).unwrap();
    assert_eq!((c.read_u8(&a).unwrap(), c.read_u8(&b).unwrap()), (2, 0));
    assert_eq!(c.cache().dirty_pages(), 1);
    assert_eq!(
        c.cache_mut().rollback_to(inner),
        Err(CacheError::UnknownCheckpoint(2))
    );
    let inner2 = c.cache_mut().checkpoint();
    c.write_u8(&b, 5).unwrap();
    c.cache_mut().release(inner2).unwrap();
    assert_eq!(c.read_u8(&b).unwrap(), 5);
    c.cache_mut().rollback_to(outer).unwrap();
    assert_eq!((c.read_u8(&a).unwrap(), c.read_u8(&b).unwrap()), (1, 0));
    // A checkpoint of a finished run is refused.
    let old = c.cache_mut().checkpoint();
    c.discard();
    assert_eq!(
        c.cache_mut().rollback_to(old),
        Err(CacheError::UnknownCheckpoint(1))
    );
    assert_eq!(c.read_u8(&a).unwrap(), 0);
}

/// A storage that hands back a short page: the cache reports
/// corruption instead of reading zeros.
struct ShortPages;

impl PageStorage for ShortPages {
    fn has_state(&self, _: &Address, _: &State) -> Result<bool, PagesError> {
        Ok(true)
    }
    fn read_page(&self, _: &Address, _: &State, _: PageIndex) -> Result<Option<Bytes>, PagesError> {
        Ok(Some(Bytes::from_static(b"short")))
    }
    fn commit_with(
        &self,
        _: &Address,
        _: &State,
        _: &[(PageIndex, svm_pages::SharedPage)],
        _: &dyn Fn(&State) -> svm_kv::WriteBatch,
    ) -> Result<svm_pages::CommitOutcome, PagesError> {
        Err(PagesError::Corrupt("read-only mock".into()))
    }
}

#[test]
fn a_page_of_the_wrong_size_is_corruption() {
    let mut c = PageCache::open(
        ShortPages,
        Address([1; 20]),
        empty_root(),
        CacheConfig::default(),
    )
    .unwrap();
    let mut buf = [0u8; 4];
    assert!(matches!(
        c.read_into(PageIndex(0), 0, &mut buf),
        Err(CacheError::Pages(PagesError::Corrupt(_)))
    ));
}

#[test]
fn open_at_unknown_state_fails() {
    let store = PageStore::new(MemKv::new());
    let err = PageCache::open(
        store,
        Address([1; 20]),
        State([5; 32]),
        CacheConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        CacheError::Pages(PagesError::UnknownState { .. })
    ));
}

/// A page store whose next commit fails while `fail` is set (and clears
/// it), writing nothing.
struct FailingCommit {
    store: PageStore<MemKv>,
    fail: std::sync::atomic::AtomicBool,
}

impl PageStorage for FailingCommit {
    fn has_state(&self, address: &Address, state: &State) -> Result<bool, PagesError> {
        self.store.has_state(address, state)
    }
    fn read_page(
        &self,
        address: &Address,
        state: &State,
        index: PageIndex,
    ) -> Result<Option<Bytes>, PagesError> {
        self.store.read_page(address, state, index)
    }
    fn commit_with(
        &self,
        address: &Address,
        base: &State,
        pages: &[(PageIndex, svm_pages::SharedPage)],
        extra: &dyn Fn(&State) -> svm_kv::WriteBatch,
    ) -> Result<svm_pages::CommitOutcome, PagesError> {
        if self.fail.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Err(PagesError::Corrupt("injected commit failure".into()));
        }
        self.store.commit_with(address, base, pages, extra)
    }
}

/// A failed commit leaves the run as it was: the same pages dirty, the
/// same bytes read (a page written back to zeros among them), checkpoints
/// still open, and a retry commits what a cache that never failed does.
#[test]
fn a_failed_commit_keeps_the_run() {
    let address = Address([1; 20]);
    let open = |fail: bool| {
        let storage = FailingCommit {
            store: PageStore::new(MemKv::new()),
            fail: std::sync::atomic::AtomicBool::new(false),
        };
        let mut c =
            PageCache::open(storage, address, empty_root(), CacheConfig::default()).unwrap();
        c.write(PageIndex(0), 0, &[9; 16]).unwrap();
        c.write(PageIndex(5), 100, &[7; 8]).unwrap();
        c.commit().unwrap();
        c.storage()
            .fail
            .store(fail, std::sync::atomic::Ordering::SeqCst);
        c.write(PageIndex(0), 0, &[0; 16]).unwrap(); // back to all zeros
        c.write(PageIndex(5), 4000, &[3; 96]).unwrap();
        c.write(PageIndex(8), 1, &[1]).unwrap();
        c
    };
    let mut failing = open(true);
    let cp = failing.checkpoint();
    failing.write(PageIndex(8), 2, &[2]).unwrap();
    let before = *failing.state();
    assert!(matches!(
        failing.commit(),
        Err(CacheError::Pages(PagesError::Corrupt(_)))
    ));
    assert_eq!(*failing.state(), before);
    assert_eq!(failing.dirty_pages(), 3);
    assert_eq!(failing.page(PageIndex(0)).unwrap(), &[0u8; 4096]);
    assert_eq!(&failing.page(PageIndex(5)).unwrap()[4000..], &[3u8; 96]);
    assert_eq!(failing.page(PageIndex(5)).unwrap()[100], 7);
    assert_eq!(&failing.page(PageIndex(8)).unwrap()[..3], &[0, 1, 2]);
    // The checkpoint taken before the failure still undoes what followed.
    failing.rollback_to(cp).unwrap();
    assert_eq!(&failing.page(PageIndex(8)).unwrap()[..3], &[0, 1, 0]);
    let retried = failing.commit().unwrap();

    let mut clean = open(false);
    assert_eq!(clean.commit().unwrap(), retried);
    assert_ne!(retried, before);
    // And the committed content reads back through the LRU and the store.
    assert_eq!(failing.page(PageIndex(0)).unwrap(), &[0u8; 4096]);
    assert_eq!(failing.page(PageIndex(8)).unwrap()[1], 1);
}
