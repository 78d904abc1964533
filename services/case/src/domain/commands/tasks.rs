//! Tasks: work handed to someone while the owner stays accountable.

use redress_proto::case::v1::{Case, CaseEventType, Task, TaskKind, TaskState, TimelineEntryKind, Visibility};

use super::{Change, Outcome, Step, not_closed};
use crate::domain::DomainError;

pub(super) fn create(case: &mut Case, mut task: Task, step: &Step) -> Outcome {
    not_closed(case, "CreateTask")?;
    task.name = format!("{}/tasks/{}", case.name, case.tasks.len() + 1);
    if task.kind() == TaskKind::Unspecified {
        task.kind = TaskKind::General as i32;
    }
    task.state = TaskState::Open as i32;
    task.creator = step.actor.id.clone();
    task.create_time = step.time();
    task.completed_by.clear();
    task.complete_time = None;
    task.outcome.clear();
    let mut text = format!("task created: {}", task.title);
    if !task.assignee.is_empty() {
        text.push_str(&format!(" (assigned to {})", task.assignee));
    }
    case.tasks.push(task.clone());
    Ok(with_task(step, CaseEventType::TaskCreated, text, task))
}

pub(super) fn complete(case: &mut Case, task_id: &str, outcome: String, step: &Step) -> Outcome {
    not_closed(case, "CompleteTask")?;
    let task = finish(case, task_id, TaskState::Done, &outcome, step)?;
    let text =
        format!("task done: {}{}", task.title, if outcome.is_empty() { String::new() } else { format!(": {outcome}") });
    Ok(with_task(step, CaseEventType::TaskCompleted, text, task))
}

pub(super) fn waive(case: &mut Case, task_id: &str, reason: String, step: &Step) -> Outcome {
    not_closed(case, "WaiveTask")?;
    if !step.actor.supervisor {
        return Err(DomainError::NotPermitted("only a supervisor may waive a task".into()));
    }
    let task = finish(case, task_id, TaskState::Waived, &reason, step)?;
    let text = format!("task waived: {}: {reason}", task.title);
    Ok(with_task(step, CaseEventType::TaskWaived, text, task))
}

/// The change of a task command, carrying the task.
fn with_task(step: &Step, event_type: CaseEventType, text: String, task: Task) -> Change {
    let mut change = step.change(event_type, TimelineEntryKind::Task, Visibility::Internal, text);
    change.task = Some(task);
    change
}

/// Ends the open task `task_id` in `state` with `outcome`, and returns it as it is now.
fn finish(case: &mut Case, task_id: &str, state: TaskState, outcome: &str, step: &Step) -> Result<Task, DomainError> {
    let name = format!("{}/tasks/{task_id}", case.name);
    let task = case.tasks.iter_mut().find(|t| t.name == name).ok_or_else(|| DomainError::NotFound(name.clone()))?;
    if task.state() != TaskState::Open {
        return Err(DomainError::Rule(format!(
            "{name} is {}; only an OPEN task can be completed or waived",
            task.state().as_str_name().trim_start_matches("TASK_STATE_")
        )));
    }
    task.state = state as i32;
    task.completed_by = step.actor.id.clone();
    task.complete_time = step.time();
    task.outcome = outcome.to_string();
    Ok(task.clone())
}
