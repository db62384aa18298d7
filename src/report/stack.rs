//! Finds the invocation log group of a deployed stack: the `InvocationLogGroupName` output, or
//! the physical id of the `InvocationLogGroup` resource when the stack has no outputs yet
//! (stacks created through a change set on some emulators report none).

use crate::aws::Aws;

use super::ReportError;

pub const OUTPUT: &str = "InvocationLogGroupName";
pub const LOGICAL_ID: &str = "InvocationLogGroup";

pub async fn invocation_log_group(aws: &Aws, stack: &str) -> Result<String, ReportError> {
    let cfn = aws.cloudformation();
    let not_found = || ReportError::StackNotFound { stack: stack.to_owned(), region: aws.region.clone() };
    let resp = match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(r) => r,
        Err(e) => {
            let e = aws.error("DescribeStacks", e);
            return Err(if e.is_not_found() { not_found() } else { ReportError::Aws(e) });
        }
    };
    let s = resp.stacks().first().ok_or_else(not_found)?;
    if s.stack_status().is_some_and(|st| st.as_str() == "DELETE_COMPLETE") {
        return Err(not_found());
    }
    if let Some(v) = s.outputs().iter().find(|o| o.output_key() == Some(OUTPUT)).and_then(|o| o.output_value()) {
        return Ok(v.to_owned());
    }
    let res = cfn
        .describe_stack_resources()
        .stack_name(stack)
        .logical_resource_id(LOGICAL_ID)
        .send()
        .await
        .map_err(|e| ReportError::Aws(aws.error("DescribeStackResources", e)))?;
    res.stack_resources()
        .iter()
        .find(|r| r.logical_resource_id() == Some(LOGICAL_ID))
        .and_then(|r| r.physical_resource_id())
        .map(str::to_owned)
        .ok_or_else(|| ReportError::NoLogGroup { stack: stack.to_owned() })
}
