//! The order in which tables are changed so that foreign keys hold at every statement:
//! parents are filled before their children and children emptied before their parents. A
//! table that references itself needs no order (each statement is checked as a whole).
//! Tables that reference each other in a cycle can only be changed together when every
//! constraint of the cycle can be deferred to the COMMIT; otherwise the restore is refused,
//! naming the cycle. Pure, so every shape is tested without a database.

use std::collections::BTreeSet;

/// `child` references `parent` through `constraint` (indexes into the caller's tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FkEdge {
    pub child: usize,
    pub parent: usize,
    pub constraint: String,
    pub deferrable: bool,
}

/// The order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FkOrder {
    /// Parents before children: the order of inserts (deletes go in reverse).
    pub insert: Vec<usize>,
    /// Constraints of cycles, to be deferred to the COMMIT.
    pub deferred: Vec<String>,
}

/// Tables that reference each other through constraints that cannot be deferred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FkCycle {
    pub tables: Vec<usize>,
    /// The constraints of the cycle that are not deferrable.
    pub constraints: Vec<String>,
}

/// Orders `count` tables by `edges`. Ties keep the caller's order.
pub fn fk_order(count: usize, edges: &[FkEdge]) -> Result<FkOrder, FkCycle> {
    let edges: Vec<&FkEdge> = edges
        .iter()
        .filter(|e| e.child != e.parent && e.child < count && e.parent < count)
        .collect();
    let component = components(count, &edges);
    let components_count = component.iter().copied().max().map_or(0, |m| m + 1);
    let mut deferred = BTreeSet::new();
    for c in 0..components_count {
        let members: Vec<usize> = (0..count).filter(|&t| component[t] == c).collect();
        if members.len() < 2 {
            continue;
        }
        let inside: Vec<&&FkEdge> = edges
            .iter()
            .filter(|e| component[e.child] == c && component[e.parent] == c)
            .collect();
        let fixed: Vec<String> = inside
            .iter()
            .filter(|e| !e.deferrable)
            .map(|e| e.constraint.clone())
            .collect();
        if !fixed.is_empty() {
            return Err(FkCycle {
                tables: members,
                constraints: fixed,
            });
        }
        deferred.extend(inside.iter().map(|e| e.constraint.clone()));
    }
    // Kahn's algorithm over the components: a component is ready once every component it
    // references (its parents) is placed; of the ready ones, the one holding the smallest
    // table index goes first.
    let mut first_member = vec![usize::MAX; components_count];
    let mut members = vec![Vec::new(); components_count];
    for t in 0..count {
        first_member[component[t]] = first_member[component[t]].min(t);
        members[component[t]].push(t);
    }
    let mut children = vec![BTreeSet::new(); components_count];
    for e in &edges {
        let (child, parent) = (component[e.child], component[e.parent]);
        if child != parent {
            children[parent].insert(child);
        }
    }
    let mut parents_left = vec![0usize; components_count];
    for set in &children {
        for &child in set {
            parents_left[child] += 1;
        }
    }
    let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<(usize, usize)>> = (0
        ..components_count)
        .filter(|&c| parents_left[c] == 0)
        .map(|c| std::cmp::Reverse((first_member[c], c)))
        .collect();
    let mut insert = Vec::with_capacity(count);
    while let Some(std::cmp::Reverse((_, next))) = ready.pop() {
        insert.extend(members[next].iter().copied());
        for &child in &children[next] {
            parents_left[child] -= 1;
            if parents_left[child] == 0 {
                ready.push(std::cmp::Reverse((first_member[child], child)));
            }
        }
    }
    Ok(FkOrder {
        insert,
        deferred: deferred.into_iter().collect(),
    })
}

/// Strongly connected components (Tarjan's algorithm, iterative); a component id per table.
fn components(count: usize, edges: &[&FkEdge]) -> Vec<usize> {
    let mut adjacent = vec![Vec::new(); count];
    for e in edges {
        adjacent[e.child].push(e.parent);
    }
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut component = vec![UNSEEN; count];
    let (mut next_index, mut next_component) = (0, 0);
    for root in 0..count {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, position in its adjacency list)
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut at)) = work.last_mut() {
            if let Some(&next) = adjacent[node].get(*at) {
                *at += 1;
                if index[next] == UNSEEN {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(child: usize, parent: usize, name: &str, deferrable: bool) -> FkEdge {
        FkEdge {
            child,
            parent,
            constraint: name.into(),
            deferrable,
        }
    }

    fn position(order: &[usize], table: usize) -> usize {
        order.iter().position(|&t| t == table).unwrap()
    }

    #[test]
    fn parents_come_before_children() {
        // RYTHM's shape, listed children first: sets → sessions → users → tenants, and sets →
        // exercises (a global table).
        let (sets, sessions, users, tenants, exercises) = (0, 1, 2, 3, 4);
        let edges = [
            edge(sets, sessions, "sets_session_fk", false),
            edge(sessions, users, "sessions_user_fk", false),
            edge(users, tenants, "users_tenant_fk", false),
            edge(sessions, tenants, "sessions_tenant_fk", false),
            edge(sets, tenants, "sets_tenant_fk", false),
            edge(sets, exercises, "sets_exercise_fk", false),
        ];
        let order = fk_order(5, &edges).unwrap();
        assert_eq!(order.insert.len(), 5);
        for e in &edges {
            assert!(
                position(&order.insert, e.parent) < position(&order.insert, e.child),
                "{e:?} in {:?}",
                order.insert
            );
        }
        assert!(order.deferred.is_empty());
        assert_eq!(
            order.insert,
            vec![tenants, users, sessions, exercises, sets]
        );
    }

    #[test]
    fn unrelated_tables_keep_their_order_and_self_references_need_none() {
        let order = fk_order(3, &[edge(1, 1, "manager_fk", false)]).unwrap();
        assert_eq!(order.insert, vec![0, 1, 2]);
        assert!(order.deferred.is_empty());
        assert_eq!(fk_order(0, &[]).unwrap().insert, Vec::<usize>::new());
    }

    #[test]
    fn deferrable_cycles_are_deferred() {
        let edges = [
            edge(0, 1, "a_b", true),
            edge(1, 0, "b_a", true),
            edge(2, 0, "c_a", false),
        ];
        let order = fk_order(3, &edges).unwrap();
        assert_eq!(order.deferred, vec!["a_b".to_owned(), "b_a".to_owned()]);
        assert!(position(&order.insert, 0) < position(&order.insert, 2));
        assert!(position(&order.insert, 1) < position(&order.insert, 2));
    }

    #[test]
    fn cycles_that_cannot_be_deferred_are_refused_by_name() {
        let edges = [
            edge(0, 1, "a_b", true),
            edge(1, 2, "b_c", false),
            edge(2, 0, "c_a", true),
            edge(3, 0, "d_a", false),
        ];
        let cycle = fk_order(4, &edges).unwrap_err();
        assert_eq!(cycle.tables, vec![0, 1, 2]);
        assert_eq!(cycle.constraints, vec!["b_c".to_owned()]);
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let n = 20_000;
        let edges: Vec<FkEdge> = (1..n)
            .map(|i| edge(i - 1, i, &format!("fk{i}"), false))
            .collect();
        let order = fk_order(n, &edges).unwrap();
        assert_eq!(order.insert[0], n - 1);
        assert_eq!(order.insert[n - 1], 0);
    }
}
