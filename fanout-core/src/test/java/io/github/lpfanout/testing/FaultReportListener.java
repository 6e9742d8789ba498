package io.github.lpfanout.testing;

import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

/**
 * Prints the {@link FaultReport} once, when the JUnit Platform has run every test of the plan.
 * Registered through {@code META-INF/services}, so that no test class has to remember it.
 */
public final class FaultReportListener implements TestExecutionListener {

  @Override
  public void testPlanExecutionFinished(TestPlan testPlan) {
    FaultReport.publish();
  }
}
