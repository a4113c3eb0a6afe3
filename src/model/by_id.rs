//! A map from a dense `u32` id to a value, kept as a vector.
//!
//! MongoDB's `_id`s, NATS sequence numbers and the checks' per-document state are all dense
//! small integers here (counted from 1 in creation order), so a vector indexed by id is the map:
//! a lookup is an index instead of a `BTreeMap`'s pointer chase per level, and iteration is in
//! id order, so nothing that reaches a decision or the output depends on a hash order.

/// Values by a dense `u32` id (ids here count from 1): a vector is the map, and iteration is in
/// id order. Lookups are an index, against a `BTreeMap`'s pointer chase per level.
#[derive(Clone, Debug)]
pub struct ById<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for ById<T> {
    fn default() -> Self {
        ById { slots: Vec::new() }
    }
}

impl<T> ById<T> {
    /// The value of `id`.
    pub fn get(&self, id: u32) -> Option<&T> {
        self.slots.get(id as usize)?.as_ref()
    }

    /// The value of `id`, to change.
    pub fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        self.slots.get_mut(id as usize)?.as_mut()
    }

    /// The place of `id`'s value, made if need be.
    pub fn entry(&mut self, id: u32) -> &mut Option<T> {
        let i = id as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        &mut self.slots[i]
    }

    /// Take `id`'s value out.
    pub fn remove(&mut self, id: u32) -> Option<T> {
        self.slots.get_mut(id as usize)?.take()
    }

    /// Set `id`'s value; returns the old one.
    pub fn insert(&mut self, id: u32, value: T) -> Option<T> {
        self.entry(id).replace(value)
    }

    /// Every (id, value), in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i as u32, v.as_ref()?)))
    }

    /// Number of ids with a value (counted: it is not needed on any hot path).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether no id has a value.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_id_iterates_in_id_order_whatever_the_insertion_order() {
        let mut m = ById::default();
        assert!(m.is_empty());
        for id in [9, 2, 5] {
            assert_eq!(m.insert(id, id * 10), None);
        }
        assert_eq!(m.insert(5, 51), Some(50));
        assert_eq!(m.iter().collect::<Vec<_>>(), [(2, &20), (5, &51), (9, &90)]);
        assert_eq!((m.len(), m.get(3), m.get(1000)), (3, None, None));
        *m.get_mut(9).unwrap() += 1;
        assert_eq!(m.get(9), Some(&91));
        assert_eq!((m.remove(9), m.remove(9), m.len()), (Some(91), None, 2));
    }
}
